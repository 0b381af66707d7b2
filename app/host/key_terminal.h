#pragma once
// The terminal on the hosted program's stdin, told to pass keys on as they are typed, the way
// a serial line or a keyboard reaches the kernel: no line buffering and no echo (the line
// editor echoes, so a terminal's own echo printed every line twice), and Ctrl+C as the byte 3
// (it stops a story, as in the kernel) rather than SIGINT. Ctrl+\ still ends the program and
// Ctrl+Z still suspends it. The terminal's own settings come back when the program ends, by
// a return, exit(), a fatal signal or a suspension.
namespace host {

class KeyTerminal {
public:
    // Only when stdin is a terminal, and once: later calls do nothing.
    static void take_over();
    static void give_back();

    // Gives the terminal back when it goes out of scope (main's end).
    struct Guard {
        Guard() = default;
        Guard(Guard const&) = delete;
        Guard& operator=(Guard const&) = delete;
        ~Guard() { give_back(); }
    };
};

}
