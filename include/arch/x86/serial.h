#pragma once
#include <rt/console.h>
#include <rt/terminal_keys.h>

namespace x86 {

// A 16550 UART at 115200 8N1. Output never blocks forever: with no UART present (or a
// stuck one), characters are dropped after a bounded wait. What a terminal sends back is
// read as keys (rt::TerminalKeys: the cursor keys' escape sequences, DEL, CR LF).
class Serial final : public rt::ConsoleSink, public rt::InputSource {
public:
    static constexpr u16 com1 = 0x3F8;
    explicit Serial(u16 port = com1) : m_port(port) {}

    // Returns false when no UART answers at the port.
    bool initialize();
    void write(rt::StringView) override;
    void set_color(rt::Color) override;
    int poll() override;
    void enable_ansi_colors(bool enabled) { m_ansi_colors = enabled; }

private:
    void put(char);
    u16 m_port;
    bool m_present { false };
    bool m_ansi_colors { false };
    rt::TerminalKeys m_keys;
};

}
