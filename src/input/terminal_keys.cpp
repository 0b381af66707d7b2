#include <rt/keys.h>
#include <rt/terminal_keys.h>

namespace rt {

namespace {
// The final bytes of the cursor keys, Home and End, in both kinds of sequence (xterm,
// VT100, the Linux console, PuTTY, minicom, screen).
int cursor_key(u8 final_byte)
{
    switch (final_byte) {
    case 'A': return key::up;
    case 'B': return key::down;
    case 'C': return key::right;
    case 'D': return key::left;
    case 'H': return key::home;
    case 'F': return key::end;
    default: return TerminalKeys::nothing;
    }
}
}

int TerminalKeys::finish_control_sequence(u8 final_byte) const
{
    if (final_byte != '~')
        return cursor_key(final_byte); // "ESC [ 1 ; 5 C" (Ctrl+Right) is Right as well
    switch (m_parameter) { // "ESC [ n ~": the VT220 editing keys
    case 1:
    case 7: return key::home;
    case 4:
    case 8: return key::end;
    case 3: return key::forward_delete;
    default: return nothing; // Insert, Page Up/Down, function keys
    }
}

int TerminalKeys::take(u8 byte)
{
    bool after_carriage_return = m_after_carriage_return;
    m_after_carriage_return = false;
    switch (m_state) {
    case State::Escape:
        if (byte == '[') {
            m_state = State::ControlSequence;
            m_parameter = 0;
            m_second_parameter = false;
            return nothing;
        }
        if (byte == 'O') {
            m_state = State::KeypadKey;
            return nothing;
        }
        // Escape and then a character (what Alt+key sends): the character.
        m_state = State::Plain;
        break;
    case State::ControlSequence:
        if (byte >= '0' && byte <= '9') {
            if (!m_second_parameter && m_parameter < 1000)
                m_parameter = m_parameter * 10 + (byte - '0');
            return nothing;
        }
        if (byte >= 0x20 && byte <= 0x3F) { // ';', other parameter and intermediate bytes
            m_second_parameter = m_second_parameter || byte == ';';
            return nothing;
        }
        m_state = State::Plain;
        if (byte >= 0x40 && byte <= 0x7E)
            return finish_control_sequence(byte);
        break; // not a sequence after all: the byte counts on its own
    case State::KeypadKey:
        m_state = State::Plain;
        return cursor_key(byte);
    case State::Plain:
        break;
    }
    switch (byte) {
    case key::escape:
        m_state = State::Escape;
        return nothing;
    case '\r':
        m_after_carriage_return = true;
        return key::enter;
    case '\n':
        return after_carriage_return ? nothing : key::enter;
    case 0x7F:
        return key::backspace;
    default:
        return byte;
    }
}

}
