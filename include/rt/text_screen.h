#pragma once
// A screen of character cells with word wrap and scrolling, kept as a grid in memory so
// that drawing never reads the (slow, uncached) video memory back. VGA text mode and the
// framebuffer console only say how one cell is drawn. Text is UTF-8, a character a cell
// as on a terminal (so the line editor's cursor is where a terminal's is); how a cell
// shows a character its font lacks is the drawer's choice.
#include <rt/console.h>
#include <rt/utf8.h>

namespace rt {

struct Cell {
    u16 character { ' ' }; // a code point; those past U+FFFF are kept as U+FFFD
    Color color { Color::Log };
    bool operator==(Cell const&) const = default;
};

class TextScreen : public ConsoleSink {
public:
    // The largest grid kept: 1920x1200 pixels in 8x16 cells.
    static constexpr u32 max_columns = 240, max_rows = 75;

    void write(StringView) override;
    void set_color(Color color) override { m_color = color; }
    void set_word_wrap(bool word_wrap) override { m_word_wrap = word_wrap; }
    void clear() override;
    bool is_screen() const override { return true; }

    u32 columns() const { return m_columns; }
    u32 rows() const { return m_rows; }
    Cell cell(u32 column, u32 row) const { return m_cells[row * max_columns + column]; }
    // The text of one row without trailing blanks (what a person reads there), in UTF-8;
    // a character that would not fit whole is left out.
    size_t row_text(u32 row, char* out, size_t capacity) const;

protected:
    TextScreen(u32 columns, u32 rows);
    ~TextScreen() = default;
    virtual void draw_cell(u32 column, u32 row, Cell) = 0;
    virtual void move_cursor(u32, u32) {}
    // Every cell drawn again (on a screen that has moved).
    void redraw();

private:
    void put(u32 character);
    void set_cell(u32 column, u32 row, Cell);
    void new_line();
    void wrap_word();
    void scroll();

    Cell m_cells[max_columns * max_rows];
    u32 m_columns, m_rows;
    u32 m_column { 0 }, m_row { 0 };
    Color m_color { Color::Log };
    bool m_word_wrap { true };
    // Rows that go on from the row above, broken at its last cell (set_word_wrap(false)):
    // '\b' at their first column steps back to the row above's last.
    bool m_continues[max_rows] {};
    Utf8Decoder m_decoder;
};

}
