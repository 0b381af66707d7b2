#include <arch/x86/cpu.h>
#include <arch/x86/io.h>
#include <arch/x86/power.h>
#include <rt/console.h>

namespace x86 {

namespace {
constexpr u16 qemu_debug_exit_port = 0xF4;
// PIIX4 / ICH9 PM1a control ports as QEMU's i440fx and q35 machines place them.
constexpr u16 qemu_pm1a_control_ports[] = { 0x604, 0xB004 };
constexpr u16 sleep_enable_s5 = 0x2000;
bool power_off_at_end = false;
}

void set_power_off_at_end(bool enabled) { power_off_at_end = enabled; }

void shut_down(ExitStatus status)
{
    rt::println("[power] {}; halting", status == ExitStatus::Success ? "finished" : "stopped after an error");
    out8(qemu_debug_exit_port, u8(status));
    if (power_off_at_end)
        for (u16 port : qemu_pm1a_control_ports)
            out16(port, sleep_enable_s5);
    rt::println("[power] it is now safe to turn the machine off");
    halt_forever();
}

}
