#include <rt/text_screen.h>
#include <rt/utility.h>

namespace rt {

TextScreen::TextScreen(u32 columns, u32 rows)
    : m_columns(min(columns, max_columns))
    , m_rows(min(rows, max_rows))
{
}

void TextScreen::set_cell(u32 column, u32 row, Cell cell)
{
    Cell& stored = m_cells[row * max_columns + column];
    if (stored == cell)
        return;
    stored = cell;
    draw_cell(column, row, cell);
}

void TextScreen::redraw()
{
    for (u32 row = 0; row < m_rows; ++row)
        for (u32 column = 0; column < m_columns; ++column)
            draw_cell(column, row, m_cells[row * max_columns + column]);
}

void TextScreen::clear()
{
    for (u32 row = 0; row < m_rows; ++row)
        for (u32 column = 0; column < m_columns; ++column) {
            m_cells[row * max_columns + column] = Cell { ' ', m_color };
            draw_cell(column, row, Cell { ' ', m_color });
        }
    m_column = m_row = 0;
    move_cursor(0, 0);
}

// Only cells whose content changes are drawn again: blank ends of lines stay untouched.
void TextScreen::scroll()
{
    for (u32 row = 0; row + 1 < m_rows; ++row) {
        for (u32 column = 0; column < m_columns; ++column)
            set_cell(column, row, m_cells[(row + 1) * max_columns + column]);
        m_continues[row] = m_continues[row + 1];
    }
    m_continues[m_rows - 1] = false;
    for (u32 column = 0; column < m_columns; ++column)
        set_cell(column, m_rows - 1, Cell { ' ', Color::Log });
}

void TextScreen::new_line()
{
    m_column = 0;
    if (++m_row == m_rows) {
        scroll();
        m_row = m_rows - 1;
    }
    m_continues[m_row] = false;
}

// The cursor ran past the right edge in the middle of a word: carry the word's start to
// the next line, unless the word fills the whole line (then it is cut where it is).
void TextScreen::wrap_word()
{
    u32 start = m_columns;
    while (start > 0 && m_cells[m_row * max_columns + start - 1].character != ' ')
        --start;
    if (start == 0) {
        new_line();
        return;
    }
    Cell carried[max_columns];
    u32 count = m_columns - start;
    for (u32 i = 0; i < count; ++i) {
        carried[i] = m_cells[m_row * max_columns + start + i];
        set_cell(start + i, m_row, Cell { ' ', carried[i].color });
    }
    new_line();
    for (u32 i = 0; i < count; ++i)
        set_cell(i, m_row, carried[i]);
    m_column = count;
}

void TextScreen::put(u32 c)
{
    switch (c) {
    case '\n':
        new_line();
        return;
    case '\r':
        m_column = 0;
        return;
    case '\b': // one cell back, not erased: a terminal's backspace ("\b \b" erases)
        if (m_column > 0) {
            --m_column;
        } else if (m_row > 0 && m_continues[m_row]) {
            --m_row;
            m_column = m_columns - 1;
        }
        return;
    case '\t':
        do
            put(' ');
        while (m_column % 4 != 0 && m_column < m_columns);
        return;
    default:
        break;
    }
    // The cursor waits past the last column until the next character, so a line that
    // fills the screen's width exactly does not leave an empty line before its newline.
    if (m_column == m_columns && !m_word_wrap) {
        new_line();
        m_continues[m_row] = true;
    } else if (m_column == m_columns) {
        if (c == ' ') {
            new_line();
            return; // the space that ends a wrapped line is not carried over
        }
        wrap_word();
    }
    set_cell(m_column++, m_row, Cell { u16(c <= 0xFFFF ? c : Utf8Decoder::replacement), m_color });
}

void TextScreen::write(StringView text)
{
    if (m_columns == 0 || m_rows == 0)
        return;
    for (char byte : text) {
        u32 characters[2];
        for (size_t i = 0, count = m_decoder.take(u8(byte), characters); i < count; ++i)
            put(characters[i]);
    }
    move_cursor(min(m_column, m_columns - 1), m_row);
}

size_t TextScreen::row_text(u32 row, char* out, size_t capacity) const
{
    size_t length = 0, kept = 0; // kept: up to the last non-blank
    for (u32 column = 0; column < m_columns; ++column) {
        char bytes[4];
        size_t count = encode_utf8(m_cells[row * max_columns + column].character, bytes);
        if (length + count > capacity)
            break;
        for (size_t i = 0; i < count; ++i)
            out[length++] = bytes[i];
        if (count > 1 || bytes[0] != ' ')
            kept = length;
    }
    return kept;
}

}
