#pragma once
// The line a person types at "prompt> " or "you> ", edited as in a shell: the cursor keys,
// Home and End (or Ctrl+A and Ctrl+E), backspace and Delete anywhere in the line, Ctrl+U
// and Ctrl+K to clear before or after the cursor, Ctrl+C to give the line up, Up and Down
// for the lines entered before, and Ctrl+D on an empty line to end the input. A character of UTF-8 (typed on a terminal) moves and
// is deleted as one.
//
// The echo uses only what every console sink understands: characters, and '\b' to step
// back one cell without erasing it (a terminal's backspace; the text screens do the same).
// A change in the middle of the line writes the rest of the line again and steps back.
#include <rt/console.h>

namespace app {

// TooLong: the line ended, but characters beyond the buffer were dropped (the caller
// should refuse it rather than act on part of it).
enum class LineStatus { Line, TooLong, EndOfInput };

class LineEditor {
public:
    static constexpr size_t max_line = 512; // with its NUL; the longest line kept in the history
    static constexpr size_t history_lines = 16;

    LineEditor(rt::InputSource& keys, rt::TextSink& echo) : m_keys(keys), m_echo(echo) {}

    // Reads one line into `buffer` (kept NUL-terminated, at most `capacity` bytes with the
    // NUL, capacity at most max_line). A line given up with Ctrl+C comes back empty.
    LineStatus read(char* buffer, size_t capacity, size_t& length);

private:
    struct Line {
        char* text;
        size_t capacity, length, cursor;
    };
    void insert(Line&, char const* bytes, size_t count);
    void erase(Line&, size_t from, size_t to);
    void move_to(Line&, size_t position);
    void replace(Line&, char const* text, size_t length);
    void remember(char const* text, size_t length);
    void recall(Line&, int direction);

    void write(char const* bytes, size_t count) { m_echo.write({ bytes, count }); }
    void step_back(size_t cells);
    void blank(size_t cells);

    rt::InputSource& m_keys;
    rt::TextSink& m_echo;
    // The lines entered before, oldest first once full; m_browsing counts back from the
    // newest while Up and Down walk them (0: the line being typed, kept in m_draft).
    char m_history[history_lines][max_line] {};
    size_t m_history_lengths[history_lines] {};
    size_t m_history_count { 0 }, m_history_next { 0 };
    size_t m_browsing { 0 };
    char m_draft[max_line] {};
    size_t m_draft_length { 0 };
};

}
