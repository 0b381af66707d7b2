// The console's audiences (logs and screens) and the text screen's wrapping and scrolling.
#include <gtest/gtest.h>
#include <rt/console.h>
#include <rt/font.h>
#include <rt/text_screen.h>
#include <string>

namespace {

// A small screen that records its grid as drawn and counts the cells drawn.
class FakeScreen final : public rt::TextScreen {
public:
    FakeScreen(u32 columns, u32 rows) : TextScreen(columns, rows), drawn(columns * rows, ' ') {}
    std::string row(u32 r) const
    {
        std::string text = drawn.substr(r * columns(), columns());
        return text.substr(0, text.find_last_not_of(' ') + 1);
    }
    std::string drawn;
    size_t draws { 0 };

private:
    void draw_cell(u32 column, u32 row, rt::Cell cell) override
    {
        drawn[row * columns() + column] = rt::stand_in_for(cell.character);
        ++draws;
    }
};

class FakeLog final : public rt::ConsoleSink {
public:
    void write(rt::StringView text) override { written.append(text.data(), text.length()); }
    std::string written;
};

TEST(TextScreen, WrapsAtWordBoundaries)
{
    FakeScreen screen(10, 4);
    screen.write("Once upon a time");
    EXPECT_EQ(screen.row(0), "Once upon");
    EXPECT_EQ(screen.row(1), "a time");
}

TEST(TextScreen, WrapsWordsThatArriveInPieces)
{
    FakeScreen screen(10, 4);
    for (const char* piece : { "Once", " up", "on", " a", " ti", "me" })
        screen.write(piece);
    EXPECT_EQ(screen.row(0), "Once upon");
    EXPECT_EQ(screen.row(1), "a time");
}

TEST(TextScreen, CutsAWordLongerThanTheLine)
{
    FakeScreen screen(4, 3);
    screen.write("abcdefg");
    EXPECT_EQ(screen.row(0), "abcd");
    EXPECT_EQ(screen.row(1), "efg");
}

TEST(TextScreen, ALineOfExactlyTheWidthLeavesNoBlankLine)
{
    FakeScreen screen(5, 3);
    screen.write("abcde\nxy");
    EXPECT_EQ(screen.row(0), "abcde");
    EXPECT_EQ(screen.row(1), "xy");
}

TEST(TextScreen, ScrollingKeepsTheLastScreenAndRedrawsOnlyChangedCells)
{
    FakeScreen screen(8, 3);
    screen.write("one\ntwo\nthree\n");
    EXPECT_EQ(screen.row(0), "two");
    EXPECT_EQ(screen.row(1), "three");
    EXPECT_EQ(screen.row(2), "");
    size_t before = screen.draws;
    // Writing "four" draws 4 cells; the scroll then changes "two" -> "three" in 4 cells (the
    // 't' stays), "three" -> "four" in 5 and "four" -> "" in 4.
    screen.write("four\n");
    EXPECT_EQ(screen.row(0), "three");
    EXPECT_EQ(screen.row(1), "four");
    EXPECT_EQ(screen.draws - before, 4u + 4 + 5 + 4);
}

TEST(TextScreen, BackspaceStepsBackAsATerminalDoes)
{
    FakeScreen screen(8, 2);
    screen.write("abc\b\bx"); // one cell back each, nothing erased: x over b
    EXPECT_EQ(screen.row(0), "axc");
    screen.write("\b \b\b"); // the erasing idiom, and the column never goes below 0
    EXPECT_EQ(screen.row(0), "a c");
    screen.write("\b\b\b\bZ");
    EXPECT_EQ(screen.row(0), "Z c");
}

TEST(TextScreen, CharacterWrapForALineBeingEdited)
{
    FakeScreen screen(8, 3);
    screen.set_word_wrap(false);
    // Broken at the last cell, the space kept: each character in the cell after the last.
    screen.write("> one two three");
    EXPECT_EQ(screen.row(0), "> one tw");
    EXPECT_EQ(screen.row(1), "o three");
    // Back over the edge, one character a step: "tw" and the "o" after them replaced.
    screen.write("\b\b\b\b\b\b\b\b\bXYZ");
    EXPECT_EQ(screen.row(0), "> one XY");
    EXPECT_EQ(screen.row(1), "Z three");
    // Back no further than the first row, which goes on from none.
    screen.write("\b\b\b\b\b\b\b\b\b\b\b\b\b\b\b\b\b\b!");
    EXPECT_EQ(screen.row(0), "! one XY");
    // A line broken on the last row scrolls the screen: the rows still know which goes on
    // from the one above.
    screen.write("\n\nabcdefgh12");
    EXPECT_EQ(screen.row(0), "Z three");
    EXPECT_EQ(screen.row(1), "abcdefgh");
    EXPECT_EQ(screen.row(2), "12");
    screen.write("\b\b\b?");
    EXPECT_EQ(screen.row(1), "abcdefg?");
    // A line broken by a newline is not gone back over.
    screen.write("\n\b\b*");
    EXPECT_EQ(screen.row(2), "*2");
    // Word wrap again for prose.
    FakeScreen prose(8, 3);
    prose.write("> one two three");
    EXPECT_EQ(prose.row(0), "> one");
}

TEST(TextScreen, Utf8CharactersTakeOneCellEach)
{
    FakeScreen screen(12, 2);
    // "café “ok”", the é split across two writes as a model's byte pieces split it.
    screen.write("caf\xc3");
    screen.write("\xa9 \xe2\x80\x9cok\xe2\x80\x9d");
    char text[32];
    EXPECT_EQ(std::string(text, screen.row_text(0, text, sizeof text)), "caf\xc3\xa9 \xe2\x80\x9cok\xe2\x80\x9d");
    EXPECT_EQ(screen.cell(3, 0).character, 0xE9);
    EXPECT_EQ(screen.cell(5, 0).character, 0x201C);
    EXPECT_EQ(screen.cell(8, 0).character, 0x201D);
    EXPECT_EQ(screen.cell(9, 0).character, ' ');
    // Bytes that make no character: one replacement each, the next character kept.
    screen.write("\n\x80x\xc3y\xff\xf0\x9f\x98\x80");
    EXPECT_EQ(screen.cell(0, 1).character, 0xFFFD);
    EXPECT_EQ(screen.cell(1, 1).character, 'x');
    EXPECT_EQ(screen.cell(2, 1).character, 0xFFFD);
    EXPECT_EQ(screen.cell(3, 1).character, 'y');
    EXPECT_EQ(screen.cell(4, 1).character, 0xFFFD);
    EXPECT_EQ(screen.cell(5, 1).character, 0xFFFD); // an emoji, past what a cell keeps
}

TEST(StandIns, TheClosestAsciiCharacter)
{
    EXPECT_EQ(rt::stand_in_for('a'), 'a');
    EXPECT_EQ(rt::stand_in_for(0xE9), 'e');    // é
    EXPECT_EQ(rt::stand_in_for(0xC7), 'C');    // Ç
    EXPECT_EQ(rt::stand_in_for(0xDF), 's');    // ß
    EXPECT_EQ(rt::stand_in_for(0x2019), '\''); // ’
    EXPECT_EQ(rt::stand_in_for(0x201C), '"');  // “
    EXPECT_EQ(rt::stand_in_for(0x2014), '-');  // —
    EXPECT_EQ(rt::stand_in_for(0x4E2D), '?');  // 中
    EXPECT_EQ(rt::stand_in_for('\n'), '?');
}

TEST(TextScreen, RowTextIsWhatAPersonReads)
{
    FakeScreen screen(12, 2);
    screen.write("Lily smiled");
    char text[16];
    size_t length = screen.row_text(0, text, sizeof text);
    EXPECT_EQ(std::string(text, length), "Lily smiled");
}

TEST(Console, LogsAndScreensReachOnlyTheirKind)
{
    // The console is a singleton: use a fresh one through its public interface only.
    rt::Console& console = rt::Console::the();
    size_t sinks_before = console.sink_count();
    ASSERT_LE(sinks_before + 2, 4u);
    static FakeScreen screen(40, 5);
    static FakeLog log;
    console.attach_output(screen);
    console.attach_output(log);
    rt::format_to(console.logs(), "{{\"json\":1}}\n");
    rt::format_to(console.screens(), "header\n");
    console.write("story");
    EXPECT_EQ(log.written, "{\"json\":1}\nstory");
    EXPECT_EQ(screen.row(0), "header");
    EXPECT_EQ(screen.row(1), "story");
    console.clear_screens();
    EXPECT_EQ(screen.row(0), "");
    EXPECT_EQ(log.written, "{\"json\":1}\nstory");
}

TEST(Console, ScopedColorRestoresThePreviousColour)
{
    auto& console = rt::Console::the();
    EXPECT_EQ(console.color(), rt::Color::Log);
    {
        rt::ScopedColor text { rt::Color::Text };
        EXPECT_EQ(console.color(), rt::Color::Text);
        {
            rt::ScopedColor warning { rt::Color::Warning };
            EXPECT_EQ(console.color(), rt::Color::Warning);
        }
        EXPECT_EQ(console.color(), rt::Color::Text);
    }
    EXPECT_EQ(console.color(), rt::Color::Log);
}

}

namespace {

// Keys typed, then nothing more (a machine's source: it never ends).
class TypedKeys final : public rt::InputSource {
public:
    int poll() override { return next < keys.size() ? u8(keys[next++]) : nothing_waiting; }
    std::string keys;
    size_t next { 0 };
};

std::string read_all(rt::Console& console)
{
    std::string out;
    for (int key = console.poll(); key >= 0; key = console.poll())
        out += char(key);
    return out;
}

TEST(Console, InterruptedLooksForControlCAndKeepsTheOtherKeys)
{
    static TypedKeys typed; // attached for good: the console is the program's one
    auto& console = rt::Console::the();
    console.attach_input(typed);
    // Keys typed during a story wait for the next line, in order.
    typed.keys = "next line";
    EXPECT_FALSE(console.interrupted()); // eight keys a look
    EXPECT_FALSE(console.interrupted());
    EXPECT_EQ(read_all(console), "next line");
    // Ctrl+C: said once; the keys typed before it go with the story, those after stay.
    typed.keys += "ab\x03" "cd";
    EXPECT_TRUE(console.interrupted());
    EXPECT_FALSE(console.interrupted());
    EXPECT_EQ(read_all(console), "cd");
    EXPECT_FALSE(console.interrupted());
}

}
