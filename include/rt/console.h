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
    virtual void clear() {}
    virtual bool is_screen() const { return false; }

protected:
    ~ConsoleSink() = default;
};

// A source of typed characters (keyboard, serial line); poll() never blocks.
class InputSource {
public:
    static constexpr int nothing_waiting = -1;
    static constexpr int end_of_input = -2; // only a hosted stdin ever ends

    // Returns the next character, nothing_waiting, or end_of_input.
    virtual int poll() = 0;

protected:
    ~InputSource() = default;
};

class Console final : public TextSink {
public:
    static Console& the();

    void attach_output(ConsoleSink&);
    void attach_input(InputSource&);
    void write(StringView) override;
    void set_color(Color);
    Color color() const { return m_color; }
    // Text for the logs only (JSON lines, full tables) or for the screens only.
    TextSink& logs() { return m_logs; }
    TextSink& screens() { return m_screens; }
    void clear_screens();
    // The next character from any input source, else nothing_waiting (or end_of_input
    // when every source has ended).
    int poll_input();
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
