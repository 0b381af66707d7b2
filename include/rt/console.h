#pragma once
// The console fans text out to every attached sink (serial, VGA text, framebuffer, or
// stdout in the hosted build), so one print reaches every place a user may be looking.
#include <rt/format.h>

namespace rt {

enum class Color : u8 { Default, Dim, Highlight, Good, Warning, Bad };

class ConsoleSink : public TextSink {
public:
    virtual void set_color(Color) {}

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
    // The next character from any input source, else nothing_waiting (or end_of_input
    // when every source has ended).
    int poll_input();
    size_t sink_count() const { return m_sink_count; }

private:
    static constexpr size_t max_sinks = 4;
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

// Prints in a colour, then restores the default.
template<typename... Args>
void println_colored(Color color, StringView format, Args const&... args)
{
    Console::the().set_color(color);
    format_to(Console::the(), format, args...);
    Console::the().set_color(Color::Default);
    Console::the().write("\n");
}

}
