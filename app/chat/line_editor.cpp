#include "line_editor.h"
#include <rt/keys.h>
#include <rt/utility.h>

namespace app {

namespace {
bool continuation_byte(char c) { return (u8(c) & 0xC0) == 0x80; }

// How many screen cells text takes: one for each character, however many bytes of UTF-8
// it has.
size_t cells(char const* text, size_t length)
{
    size_t count = 0;
    for (size_t i = 0; i < length; ++i)
        count += !continuation_byte(text[i]);
    return count;
}

// Where the character before / after `at` begins.
size_t previous_character(char const* text, size_t at)
{
    while (at > 0 && continuation_byte(text[--at])) { }
    return at;
}
size_t next_character(char const* text, size_t length, size_t at)
{
    while (at < length && continuation_byte(text[++at])) { }
    return at < length ? at : length;
}

// How many bytes a UTF-8 character that begins with `lead` has; 0 for a byte that begins
// none (0xF8 and above).
size_t sequence_length(u8 lead)
{
    if (lead < 0x80)
        return 1;
    if (lead < 0xE0)
        return 2;
    if (lead < 0xF0)
        return 3;
    return lead < 0xF8 ? 4 : 0;
}
}

void LineEditor::step_back(size_t count)
{
    for (size_t i = 0; i < count; ++i)
        write("\b", 1);
}

void LineEditor::blank(size_t count)
{
    for (size_t i = 0; i < count; ++i)
        write(" ", 1);
}

// Inserts a whole character (or several) at the cursor, and writes the line from there
// again.
void LineEditor::insert(Line& line, char const* bytes, size_t count)
{
    for (size_t i = line.length; i-- > line.cursor;)
        line.text[i + count] = line.text[i];
    for (size_t i = 0; i < count; ++i)
        line.text[line.cursor + i] = bytes[i];
    line.length += count;
    line.text[line.length] = 0;
    write(line.text + line.cursor, line.length - line.cursor);
    line.cursor += count;
    step_back(cells(line.text + line.cursor, line.length - line.cursor));
}

// Removes the bytes [from, to) (the cursor at or after `from`), and shows the cursor at
// `from`.
void LineEditor::erase(Line& line, size_t from, size_t to)
{
    if (from == to)
        return;
    move_to(line, from);
    size_t removed = cells(line.text + from, to - from);
    for (size_t i = to; i <= line.length; ++i) // the NUL too
        line.text[from + i - to] = line.text[i];
    line.length -= to - from;
    size_t rest = cells(line.text + from, line.length - from);
    write(line.text + from, line.length - from);
    blank(removed);
    step_back(rest + removed);
}

void LineEditor::move_to(Line& line, size_t position)
{
    if (position < line.cursor)
        step_back(cells(line.text + position, line.cursor - position));
    else
        write(line.text + line.cursor, position - line.cursor); // the same characters again
    line.cursor = position;
}

// Shows `text` instead of the whole line (a line from the history), the cursor at its end.
void LineEditor::replace(Line& line, char const* text, size_t length)
{
    length = rt::min(length, line.capacity - 1);
    size_t old_cells = cells(line.text, line.length);
    move_to(line, 0);
    for (size_t i = 0; i < length; ++i)
        line.text[i] = text[i];
    line.length = line.cursor = length;
    line.text[length] = 0;
    write(line.text, length);
    size_t new_cells = cells(line.text, length);
    if (old_cells > new_cells) {
        blank(old_cells - new_cells);
        step_back(old_cells - new_cells);
    }
}

void LineEditor::remember(char const* text, size_t length)
{
    if (length == 0)
        return;
    size_t newest = (m_history_next + history_lines - 1) % history_lines;
    bool repeated = m_history_count && m_history_lengths[newest] == length;
    for (size_t i = 0; repeated && i < length; ++i)
        repeated = m_history[newest][i] == text[i];
    if (repeated) // the same line again is kept once, as shells do
        return;
    for (size_t i = 0; i < length; ++i)
        m_history[m_history_next][i] = text[i];
    m_history_lengths[m_history_next] = length;
    m_history_next = (m_history_next + 1) % history_lines;
    m_history_count = rt::min(m_history_count + 1, history_lines);
}

// Up (direction 1) shows the line entered before the one shown, Down (-1) the one after,
// and past the newest the line that was being typed.
void LineEditor::recall(Line& line, int direction)
{
    size_t wanted = m_browsing + size_t(direction);
    if ((direction < 0 && m_browsing == 0) || wanted > m_history_count)
        return;
    if (m_browsing == 0) { // leaving the line being typed: kept to come back to
        for (size_t i = 0; i < line.length; ++i)
            m_draft[i] = line.text[i];
        m_draft_length = line.length;
    }
    m_browsing = wanted;
    if (m_browsing == 0) {
        replace(line, m_draft, m_draft_length);
        return;
    }
    size_t slot = (m_history_next + history_lines - m_browsing) % history_lines;
    replace(line, m_history[slot], m_history_lengths[slot]);
}

LineStatus LineEditor::read(char* buffer, size_t capacity, size_t& length)
{
    Line line { buffer, rt::min(capacity, max_line), 0, 0 };
    buffer[0] = 0;
    m_browsing = 0;
    bool dropped = false;
    char pending[4]; // a UTF-8 character's bytes, until it is whole
    size_t pending_count = 0, pending_length = 0;
    auto finish = [&](LineStatus status) {
        length = line.length;
        return status;
    };
    while (true) {
        int key = m_keys.poll();
        if (key == rt::InputSource::end_of_input) {
            if (line.length == 0)
                return finish(LineStatus::EndOfInput);
            write("\n", 1);
            return finish(dropped ? LineStatus::TooLong : LineStatus::Line);
        }
        if (key == rt::InputSource::nothing_waiting) {
            m_keys.idle();
            continue;
        }
        switch (key) {
        case rt::key::enter:
        case '\r':
            move_to(line, line.length);
            write("\n", 1);
            remember(line.text, line.length);
            return finish(dropped ? LineStatus::TooLong : LineStatus::Line);
        case rt::key::interrupt: // the line given up: a fresh one
            move_to(line, line.length);
            write("^C\n", 3);
            line.length = 0;
            buffer[0] = 0;
            return finish(LineStatus::Line);
        case rt::key::backspace:
            erase(line, previous_character(line.text, line.cursor), line.cursor);
            continue;
        case rt::key::control('d'):
            if (line.length == 0) // on an empty line, as in a shell: the input ends
                return finish(LineStatus::EndOfInput);
            [[fallthrough]];
        case rt::key::forward_delete:
            erase(line, line.cursor, next_character(line.text, line.length, line.cursor));
            continue;
        case rt::key::left:
        case rt::key::control('b'):
            move_to(line, previous_character(line.text, line.cursor));
            continue;
        case rt::key::right:
        case rt::key::control('f'):
            move_to(line, next_character(line.text, line.length, line.cursor));
            continue;
        case rt::key::home:
        case rt::key::control('a'):
            move_to(line, 0);
            continue;
        case rt::key::end:
        case rt::key::control('e'):
            move_to(line, line.length);
            continue;
        case rt::key::control('u'):
            erase(line, 0, line.cursor);
            continue;
        case rt::key::control('k'):
            erase(line, line.cursor, line.length);
            continue;
        case rt::key::up:
        case rt::key::control('p'):
            recall(line, 1);
            continue;
        case rt::key::down:
        case rt::key::control('n'):
            recall(line, -1);
            continue;
        default:
            break;
        }
        if (key < 0x20 || key > 0xFF || key == 0x7F)
            continue; // other control characters and keys
        // A character, whole: UTF-8's bytes are gathered first, so that the line is never
        // written again with half a character in it. Pieces of none are dropped.
        if (!continuation_byte(char(key))) {
            pending_count = 0;
            pending_length = sequence_length(u8(key));
        }
        if (pending_length == 0 || (pending_count == 0 && continuation_byte(char(key))))
            continue;
        pending[pending_count++] = char(key);
        if (pending_count < pending_length)
            continue;
        if (line.length + pending_count >= line.capacity) {
            dropped = true; // the line is full
        } else {
            insert(line, pending, pending_count);
        }
        pending_count = 0;
    }
}

}
