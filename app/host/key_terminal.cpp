#include "key_terminal.h"
#include <csignal>
#include <cstdlib>
#include <termios.h>
#include <unistd.h>

namespace host {

namespace {

// The settings found, put back on the way out. Signal handlers read these, so they are plain
// globals written before any handler is installed.
termios g_original;
volatile sig_atomic_t g_taken = 0;
bool g_looked = false; // take_over decides once

int const fatal_signals[] = { SIGTERM, SIGHUP, SIGQUIT, SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL };

void apply_key_settings()
{
    termios keys = g_original;
    keys.c_lflag &= tcflag_t(~(ICANON | ECHO | IEXTEN));
    keys.c_cc[VINTR] = _POSIX_VDISABLE; // Ctrl+C comes as a byte
    keys.c_cc[VMIN] = 1;
    keys.c_cc[VTIME] = 0;
    if (tcsetattr(STDIN_FILENO, TCSANOW, &keys) == 0)
        g_taken = 1;
}

// tcsetattr, signal and raise are async-signal-safe.
void restore_and_die(int signal_number)
{
    if (g_taken)
        tcsetattr(STDIN_FILENO, TCSANOW, &g_original);
    signal(signal_number, SIG_DFL);
    raise(signal_number);
}

// Ctrl+Z: the shell gets its terminal as it was, and the keys' settings return with SIGCONT.
void suspend(int)
{
    bool was_taken = g_taken;
    if (was_taken)
        tcsetattr(STDIN_FILENO, TCSANOW, &g_original);
    signal(SIGTSTP, SIG_DFL);
    raise(SIGTSTP); // stops here until continued
    signal(SIGTSTP, suspend);
    if (was_taken) {
        g_taken = 0;
        apply_key_settings();
    }
}

void give_back_at_exit() { KeyTerminal::give_back(); }

// A signal the program was started ignoring (nohup's SIGHUP) stays ignored.
void handle(int signal_number, void (*handler)(int))
{
    struct sigaction current {};
    if (sigaction(signal_number, nullptr, &current) == 0 && current.sa_handler != SIG_IGN)
        signal(signal_number, handler);
}

}

void KeyTerminal::take_over()
{
    if (g_looked)
        return;
    g_looked = true;
    // Not from the background (`&`): changing the terminal there would stop the program.
    if (!isatty(STDIN_FILENO) || tcgetpgrp(STDIN_FILENO) != getpgrp() || tcgetattr(STDIN_FILENO, &g_original) != 0)
        return;
    for (int signal_number : fatal_signals)
        handle(signal_number, restore_and_die);
    handle(SIGTSTP, suspend);
    atexit(give_back_at_exit);
    apply_key_settings();
}

void KeyTerminal::give_back()
{
    if (!g_taken)
        return;
    g_taken = 0;
    tcsetattr(STDIN_FILENO, TCSANOW, &g_original);
}

}
