#pragma once
// The console fans text out to every attached sink (serial, VGA text, framebuffer, or
// stdout in the hosted build), so one print reaches every place a user may be looking.
// Sinks are logs (serial, stdout: read by scripts and tests) or screens (read by a person);
// logs() and screens() reach only one kind, so machine-readable lines stay off the screen.
#include <rt/format.h>

namespace rt {

// Log is the colour of tagged log lines and the default; Text is prose a person reads (a
// story, a chat), which screens show brighter than the log around it.
enum class Color : u8 { Log, Text, Highlight, Good, Warning, Bad };

class ConsoleSink : public TextSink {
public:
    virtual void set_color(Color) {}
    // Whether a line too long for a screen breaks between words (the default: prose) or
    // at the last cell (a line being typed and edited: a character a cell, so that '\b'
    // finds each one again, over the edge too). Sinks without an edge ignore it.
    virtual void set_word_wrap(bool) {}
    virtual void clear() {}
    virtual bool is_screen() const { return false; }

protected:
    ~ConsoleSink() = default;
};

// A source of typed keys (keyboard, serial line): characters and the codes of rt/keys.h.
// poll() never blocks.
class InputSource {
public:
    static constexpr int nothing_waiting = -1;
    static constexpr int end_of_input = -2; // only a hosted stdin ever ends

    // Returns the next key, nothing_waiting, or end_of_input.
    virtual int poll() = 0;
    // Called while a reader waits for a key and none is there: a hosted source gives the
    // processor back to the OS for a moment; a machine's sources are polled at once again.
    virtual void idle() {}

protected:
    ~InputSource() = default;
};

class Console final : public TextSink, public InputSource {
public:
    static Console& the();

    void attach_output(ConsoleSink&);
    void attach_input(InputSource&);
    void write(StringView) override;
    void set_color(Color);
    Color color() const { return m_color; }
    void set_word_wrap(bool);
    // Text for the logs only (JSON lines, full tables) or for the screens only.
    TextSink& logs() { return m_logs; }
    TextSink& screens() { return m_screens; }
    void clear_screens();
    // The next key from any input source (those typed while interrupted() looked come
    // first), else nothing_waiting (or end_of_input when every source has ended).
    int poll() override;
    void idle() override;
    // Whether Ctrl+C has been typed (looked for between the tokens of a story or a reply,
    // so that a person can stop it); the other keys typed meanwhile wait for poll().
    bool interrupted();
    // For a program that runs the application again (the fuzzer): no keys kept from before.
    void discard_typed_ahead() { m_type_ahead_count = 0; }
    size_t sink_count() const { return m_sink_count; }

private:
    class Audience final : public TextSink {
    public:
        Audience(Console& console, bool screens) : m_console(console), m_screens(screens) {}
        void write(StringView) override;

    private:
        Console& m_console;
        bool m_screens;
    };

    static constexpr size_t max_sinks = 4;
    Audience m_logs { *this, false };
    Audience m_screens { *this, true };
    Color m_color { Color::Log };
    ConsoleSink* m_sinks[max_sinks] {};
    size_t m_sink_count { 0 };
    InputSource* m_inputs[max_sinks] {};
    size_t m_input_count { 0 };
    // Keys typed ahead while a story ran: a line's worth.
    static constexpr size_t type_ahead_capacity = 512;
    int m_type_ahead[type_ahead_capacity] {};
    size_t m_type_ahead_head { 0 }, m_type_ahead_count { 0 };
};

template<typename... Args>
void print(StringView format, Args const&... args)
{
    format_to(Console::the(), format, args...);
}

template<typename... Args>
void println(StringView format, Args const&... args)
{
    format_to(Console::the(), format, args...);
    Console::the().write("\n");
}

// Sets the console's colour for a scope, then restores the one before.
class ScopedColor {
public:
    explicit ScopedColor(Color color) : m_previous(Console::the().color()) { Console::the().set_color(color); }
    ~ScopedColor() { Console::the().set_color(m_previous); }
    ScopedColor(ScopedColor const&) = delete;
    ScopedColor& operator=(ScopedColor const&) = delete;

private:
    Color m_previous;
};

// Lines broken at the screens' last cell rather than between words while it lives: for
// the echo of a line being edited (ConsoleSink::set_word_wrap).
class ScopedCharacterWrap {
public:
    ScopedCharacterWrap() { Console::the().set_word_wrap(false); }
    ~ScopedCharacterWrap() { Console::the().set_word_wrap(true); }
    ScopedCharacterWrap(ScopedCharacterWrap const&) = delete;
    ScopedCharacterWrap& operator=(ScopedCharacterWrap const&) = delete;
};

// Prints one line in a colour, then restores the one before.
template<typename... Args>
void println_colored(Color color, StringView format, Args const&... args)
{
    {
        ScopedColor scoped { color };
        format_to(Console::the(), format, args...);
    }
    Console::the().write("\n");
}

}
