// The line editor: what a line becomes after the keys typed, and what the screen shows
// meanwhile (a text screen, whose '\b' steps back as a terminal's does).
#include "../../app/chat/line_editor.h"
#include <functional>
#include <gtest/gtest.h>
#include <rt/keys.h>
#include <rt/text_screen.h>
#include <string>
#include <vector>

namespace {

using namespace rt::key;

class ScriptedKeys final : public rt::InputSource {
public:
    explicit ScriptedKeys(std::vector<int> keys) : m_keys(std::move(keys)) {}
    int poll() override
    {
        // Now and then nothing, as a person types: the editor must wait, not give up.
        if (m_quiet = !m_quiet; m_quiet)
            return nothing_waiting;
        if (m_next == m_keys.size() && on_last_key) {
            on_last_key();
            on_last_key = nullptr;
        }
        return m_next < m_keys.size() ? m_keys[m_next++] : end_of_input;
    }
    std::function<void()> on_last_key; // once every key has been taken
    void idle() override { ++idles; }
    size_t idles { 0 };

private:
    std::vector<int> m_keys;
    size_t m_next { 0 };
    bool m_quiet { false };
};

class Screen final : public rt::TextScreen {
public:
    Screen() : TextScreen(60, 4) {}
    std::string row(u32 r) const
    {
        char text[max_columns];
        return { text, row_text(r, text, sizeof text) };
    }
    // Where the cursor is, as the editor left it.
    u32 cursor_column { 0 };

private:
    void draw_cell(u32, u32, rt::Cell) override {}
    void move_cursor(u32 column, u32) override { cursor_column = column; }
};

std::vector<int> keys(std::string const& typed, std::vector<int> then = {})
{
    std::vector<int> all(typed.begin(), typed.end());
    for (int& key : all)
        key = u8(key);
    all.insert(all.end(), then.begin(), then.end());
    return all;
}
std::vector<int> operator+(std::vector<int> a, std::vector<int> const& b)
{
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

struct Typed {
    std::string line;
    app::LineStatus status;
    std::string shown; // the screen's first row
};

// Each line of `lines` read in turn by one editor (its history carried over); returns the last.
Typed type(std::vector<std::vector<int>> const& lines, size_t capacity = app::LineEditor::max_line)
{
    std::vector<int> all;
    for (auto const& line : lines)
        all = all + line;
    ScriptedKeys source(all);
    Screen screen;
    app::LineEditor editor(source, screen);
    Typed result;
    char buffer[app::LineEditor::max_line];
    for (size_t i = 0; i < lines.size(); ++i) {
        size_t length = 99;
        screen.clear();
        result.status = editor.read(buffer, capacity, length);
        result.line.assign(buffer, length);
        EXPECT_EQ(buffer[length], 0);
    }
    result.shown = screen.row(0);
    EXPECT_GT(source.idles, 0u);
    return result;
}

TEST(LineEditor, TypedLine)
{
    auto typed = type({ keys("Once upon a time\n") });
    EXPECT_EQ(typed.line, "Once upon a time");
    EXPECT_EQ(typed.status, app::LineStatus::Line);
    EXPECT_EQ(typed.shown, "Once upon a time");
}

TEST(LineEditor, EditsInTheMiddleOfTheLine)
{
    // "Once upon a tme": two left, insert i; Home, Delete, "o" -> "once upon a time".
    auto typed = type({ keys("Once upon a tme", { left, left }) + keys("i", { home, forward_delete }) + keys("o\n") });
    EXPECT_EQ(typed.line, "once upon a time");
    EXPECT_EQ(typed.shown, "once upon a time");
    // Backspace in the middle, End, more text; Right at the end does nothing.
    typed = type({ keys("a cxat", { left, left, backspace, end, right }) + keys("s\n") });
    EXPECT_EQ(typed.line, "a cats");
    EXPECT_EQ(typed.shown, "a cats");
    // Ctrl+U clears before the cursor, Ctrl+K after it; Ctrl+A, Ctrl+E, Ctrl+B, Ctrl+F move.
    typed = type({ keys("junk the dog", { control('a'), control('f'), control('f'), control('f'), control('f'), control('f'), control('u'),
        control('e'), control('b'), control('b'), control('b'), control('k') }) + keys("cat\n") });
    EXPECT_EQ(typed.line, "the cat");
    EXPECT_EQ(typed.shown, "the cat");
}

TEST(LineEditor, TheCursorIsShownWhereTheEditingHappens)
{
    // Three left, then an insertion (the rest written again, the cursor back after it),
    // then Home and End.
    std::vector<std::pair<std::vector<int>, u32>> cases = { { keys("abcdef", { left, left, left }), 3 },
        { keys("abcdef", { left, left, left }) + keys("X"), 4 }, { keys("abcdef", { home }), 0 }, { keys("abcdef", { home, end }), 6 },
        { keys("ab\xc3\xa9", { left }), 2 } };
    for (auto const& [typed, column] : cases) {
        ScriptedKeys source(typed);
        Screen screen;
        u32 at_the_end = 99;
        source.on_last_key = [&] { at_the_end = screen.cursor_column; };
        app::LineEditor editor(source, screen);
        char buffer[64];
        size_t length;
        editor.read(buffer, sizeof buffer, length);
        EXPECT_EQ(at_the_end, column) << std::string(buffer, length);
    }
}

TEST(LineEditor, LinesLongerThanTheScreenEditOverItsEdge)
{
    // A 10-column screen breaking at the last cell (as the app sets it while a line is
    // typed): Home, an insertion at the start, then a deletion, over three rows.
    class Narrow final : public rt::TextScreen {
    public:
        Narrow() : TextScreen(10, 4) { set_word_wrap(false); }
        std::string row(u32 r) const
        {
            char text[max_columns];
            return { text, row_text(r, text, sizeof text) };
        }

    private:
        void draw_cell(u32, u32, rt::Cell) override {}
    } screen;
    ScriptedKeys source(keys("a cat sat on the warm mat", { home }) + keys("so ", { end, left, left, left, left, backspace }) + keys("\n"));
    app::LineEditor editor(source, screen);
    char buffer[64];
    size_t length;
    editor.read(buffer, sizeof buffer, length);
    EXPECT_EQ(std::string(buffer, length), "so a cat sat on the war mat");
    EXPECT_EQ(screen.row(0), "so a cat s");
    EXPECT_EQ(screen.row(1), "at on the"); // its last cell a space
    EXPECT_EQ(screen.row(2), "war mat");
}

TEST(LineEditor, History)
{
    // Up recalls the line before, Up again the one before that; Down goes back towards
    // the line being typed, which comes back as it was.
    auto typed = type({ keys("first\n"), keys("second\n"), keys("thi", { up, up, down, down }) + keys("rd\n") });
    EXPECT_EQ(typed.line, "third");
    EXPECT_EQ(typed.shown, "third");
    typed = type({ keys("first\n"), keys("second\n"), keys("x", { up, up }) + keys("!\n") });
    EXPECT_EQ(typed.line, "first!");
    EXPECT_EQ(typed.shown, "first!"); // the longer "second" and the draft are wiped off
    // Up past the oldest stays there; the same line twice is kept once.
    typed = type({ keys("one\n"), keys("one\n"), keys("", { up, up, up }) + keys("\n") });
    EXPECT_EQ(typed.line, "one");
    // A recalled line edited: Left and Backspace work on it as on a typed one.
    typed = type({ keys("a big dog\n"), keys("", { up, left, left, left, left, backspace, backspace, backspace }) + keys("red\n") });
    EXPECT_EQ(typed.line, "a red dog");
}

TEST(LineEditor, ControlCGivesTheLineUp)
{
    auto typed = type({ keys("never mind", { interrupt }) });
    EXPECT_EQ(typed.line, "");
    EXPECT_EQ(typed.status, app::LineStatus::Line);
    EXPECT_EQ(typed.shown, "never mind^C");
}

TEST(LineEditor, Utf8CharactersMoveAndDeleteAsOne)
{
    // "café" then Left over the é (two bytes, one character), insert "s"; then Backspace
    // at the end removes "é" whole.
    auto typed = type({ keys("caf\xc3\xa9", { left }) + keys("s\n") });
    EXPECT_EQ(typed.line, "cafs\xc3\xa9");
    typed = type({ keys("caf\xc3\xa9", { backspace }) + keys("e\n") });
    EXPECT_EQ(typed.line, "cafe");
    // A character cut short by another one's first byte is dropped, not half kept.
    typed = type({ keys("a\xc3" "b\n") });
    EXPECT_EQ(typed.line, "ab");
}

TEST(LineEditor, OtherKeysTypeNothing)
{
    auto typed = type({ keys("a\x01\x02", { 0x1B, 0x7F, 0x1FF, 0x90 }) + keys("b\n") }); // Ctrl+A/B move; Escape, DEL, unknown codes
    EXPECT_EQ(typed.line, "ba");
}

TEST(LineEditor, FullLinesAndTheEndOfInput)
{
    auto typed = type({ keys("abcdefgh\n") }, 6);
    EXPECT_EQ(typed.line, "abcde");
    EXPECT_EQ(typed.status, app::LineStatus::TooLong);
    typed = type({ keys("partial") });
    EXPECT_EQ(typed.line, "partial");
    EXPECT_EQ(typed.status, app::LineStatus::Line);
    typed = type({ keys("") });
    EXPECT_EQ(typed.status, app::LineStatus::EndOfInput);
}

TEST(LineEditor, ControlDEndsTheInputOnlyOnAnEmptyLine)
{
    // In a line it deletes under the cursor, as Delete does ("abc", Home, Ctrl+D: "bc").
    auto typed = type({ keys("abc", { home, control('d') }) + keys("\n") });
    EXPECT_EQ(typed.line, "bc");
    EXPECT_EQ(typed.status, app::LineStatus::Line);
    // On an empty line the input ends there, though keys follow (a terminal sends no end).
    typed = type({ keys("", { control('d') }) + keys("more\n") });
    EXPECT_EQ(typed.status, app::LineStatus::EndOfInput);
    EXPECT_EQ(typed.line, "");
    // A line emptied by editing is empty too.
    typed = type({ keys("x", { backspace, control('d') }) + keys("more\n") });
    EXPECT_EQ(typed.status, app::LineStatus::EndOfInput);
}

}
