#include <arch/x86/io.h>
#include <arch/x86/pic.h>

namespace x86::pic {

namespace {
constexpr u16 master_command = 0x20, master_data = 0x21;
constexpr u16 slave_command = 0xA0, slave_data = 0xA1;
constexpr u8 icw1_init_with_icw4 = 0x11;
constexpr u8 icw4_8086_mode = 0x01;
constexpr u8 end_of_interrupt_command = 0x20;
constexpr u8 slave_on_irq2 = 1 << 2;
constexpr u8 slave_identity = 2;
}

void initialize()
{
    out8(master_command, icw1_init_with_icw4);
    io_wait();
    out8(slave_command, icw1_init_with_icw4);
    io_wait();
    out8(master_data, irq_base);
    io_wait();
    out8(slave_data, irq_base + 8);
    io_wait();
    out8(master_data, slave_on_irq2);
    io_wait();
    out8(slave_data, slave_identity);
    io_wait();
    out8(master_data, icw4_8086_mode);
    io_wait();
    out8(slave_data, icw4_8086_mode);
    io_wait();
    // Everything masked except the cascade line: the serial port and the keyboard are
    // polled, and the clock is read from the TSC.
    out8(master_data, u8(~slave_on_irq2));
    out8(slave_data, 0xFF);
}

void end_of_interrupt(u8 irq)
{
    if (irq >= 8)
        out8(slave_command, end_of_interrupt_command);
    out8(master_command, end_of_interrupt_command);
}

}
