#pragma once
// Bytes from a terminal (a serial line, or the hosted build's stdin) turned into keys
// (rt/keys.h). A terminal sends the cursor keys, Home, End and Delete as escape sequences
// (ECMA-48 control sequences "ESC [ ... final", or "ESC O final" in the keypad's
// application mode); they become one key each, and the sequences meaning anything else
// are dropped whole, so a key the line editor does not know never types "[A" into a
// prompt. DEL (0x7F, what most terminals send for backspace) becomes backspace; CR, LF
// and CR LF each become one enter.
#include <rt/types.h>

namespace rt {

class TerminalKeys {
public:
    static constexpr int nothing = -1;

    // Takes the next byte; returns the key it completes, or `nothing` (inside a sequence,
    // a dropped one, or the LF of a CR LF).
    int take(u8 byte);

private:
    int finish_control_sequence(u8 final_byte) const;

    enum class State : u8 { Plain, Escape, ControlSequence, KeypadKey };
    State m_state { State::Plain };
    u32 m_parameter { 0 }; // the first numeric parameter of a control sequence
    bool m_second_parameter { false };
    bool m_after_carriage_return { false };
};

}
