#include <arch/x86/io.h>
#include <arch/x86/serial.h>

namespace x86 {

namespace {

// Register offsets from the base port.
enum Register : u16 { Data = 0, InterruptEnable = 1, FifoControl = 2, LineControl = 3, ModemControl = 4, LineStatus = 5, Scratch = 7 };
constexpr u8 divisor_latch = 0x80;
constexpr u8 eight_data_bits = 0x03;
// Enable the FIFOs and clear the transmit side only: keys typed during boot stay queued.
constexpr u8 fifo_enable_clear_transmit = 0xC5;
constexpr u8 data_terminal_ready_and_request_to_send = 0x03;
constexpr u8 auxiliary_output_2 = 0x08; // routes the UART interrupt line; harmless when polling
constexpr u8 transmit_holding_empty = 0x20;
constexpr u8 data_ready = 0x01;

}

bool Serial::initialize()
{
    // A UART keeps what is written to its scratch register; nothing there reads 0xFF back.
    out8(m_port + Scratch, 0x5A);
    if (in8(m_port + Scratch) != 0x5A)
        return false;
    out8(m_port + InterruptEnable, 0x00);
    out8(m_port + LineControl, divisor_latch);
    out8(m_port + Data, 1); // divisor 1: 115200 baud
    out8(m_port + InterruptEnable, 0);
    out8(m_port + LineControl, eight_data_bits);
    out8(m_port + FifoControl, fifo_enable_clear_transmit);
    out8(m_port + ModemControl, data_terminal_ready_and_request_to_send | auxiliary_output_2);
    m_present = true;
    return true;
}

void Serial::put(char c)
{
    for (int spins = 0; spins < 100000; ++spins)
        if (in8(m_port + LineStatus) & transmit_holding_empty)
            break;
    out8(m_port + Data, u8(c));
}

void Serial::write(rt::StringView text)
{
    if (!m_present)
        return;
    for (char c : text) {
        if (c == '\n')
            put('\r');
        put(c);
    }
}

void Serial::set_color(rt::Color color)
{
    // ANSI colours help a person at a terminal but clutter CI logs: opt-in (serial_color=1).
    // Indexed by rt::Color: log lines dim, prose plain.
    static constexpr const char* codes[] = { "\x1b[0;2m", "\x1b[0m", "\x1b[0;1m", "\x1b[0;32m", "\x1b[0;33m", "\x1b[0;31m" };
    if (m_ansi_colors)
        write(codes[u8(color)]);
}

int Serial::poll()
{
    // An escape sequence's bytes arrive together: those waiting are read, a few at most
    // (a stuck UART may say "data ready" forever).
    for (int byte = 0; m_present && byte < 16 && (in8(m_port + LineStatus) & data_ready); ++byte) {
        int key = m_keys.take(in8(m_port + Data));
        if (key != rt::TerminalKeys::nothing)
            return key;
    }
    return nothing_waiting;
}

}
