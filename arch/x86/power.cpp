#include <arch/x86/bios_rsdp.h>
#include <arch/x86/cpu.h>
#include <arch/x86/io.h>
#include <arch/x86/power.h>
#include <arch/x86/tsc_calibration.h>
#include <rt/acpi.h>
#include <rt/console.h>
#include <rt/stack_watch.h>

namespace x86 {

namespace {
constexpr u16 qemu_debug_exit_port = 0xF4;
// PIIX4 / ICH9 PM1a control ports as QEMU's i440fx and q35 machines place them: the
// fallback when the ACPI tables cannot be read.
constexpr u16 qemu_pm1a_control_ports[] = { 0x604, 0xB004 };
constexpr u64 four_gib = 4ull << 30;

// PM1 control register bits (ACPI 6.5, table 4.13).
constexpr u16 sci_enable = 1 << 0;
constexpr u16 sleep_type_shift = 10;
constexpr u16 sleep_type_mask = 7 << sleep_type_shift;
constexpr u16 sleep_enable = 1 << 13;

bool power_off_at_end = false;
bool have_acpi_soft_off = false;
rt::acpi::SoftOff acpi_soft_off;

u16 sleep_command(u16 current, u8 sleep_type) { return u16((current & ~sleep_type_mask) | (sleep_type << sleep_type_shift) | sleep_enable); }

// Firmware that still runs the power hardware itself (SCI_EN clear) is asked, through
// its SMI command port, to hand it over, as an ACPI operating system does at start-up.
void enter_acpi_mode(rt::acpi::SoftOff const& off)
{
    if ((in16(off.pm1a_control) & sci_enable) || !off.smi_command || !off.acpi_enable)
        return;
    out8(off.smi_command, off.acpi_enable);
    for (int waited_ms = 0; waited_ms < 300 && !(in16(off.pm1a_control) & sci_enable); ++waited_ms)
        wait_microseconds(1000);
}

void acpi_power_off(rt::acpi::SoftOff const& off)
{
    if (off.pm1b_control)
        rt::println("[power] ACPI S5 via PM1a {:#x} SLP_TYP {} and PM1b {:#x} SLP_TYP {}", off.pm1a_control, off.sleep_type_a,
            off.pm1b_control, off.sleep_type_b);
    else
        rt::println("[power] ACPI S5 via PM1a {:#x} SLP_TYP {}", off.pm1a_control, off.sleep_type_a);
    enter_acpi_mode(off);
    out16(off.pm1a_control, sleep_command(in16(off.pm1a_control), off.sleep_type_a));
    if (off.pm1b_control)
        out16(off.pm1b_control, sleep_command(in16(off.pm1b_control), off.sleep_type_b));
    wait_microseconds(100'000); // the machine should be off before this returns
}
}

void prepare_power_off(rt::multiboot2::BootInfo const& info)
{
    power_off_at_end = true;
    auto found = read_acpi(info, [](const u8* rsdp, size_t length) { return rt::acpi::soft_off_from_rsdp(rsdp, length, four_gib); });
    if (found.is_error()) {
        rt::println("[power] end=poweroff: {}; will try QEMU's power-off ports", found.error().message());
        return;
    }
    acpi_soft_off = found.value();
    have_acpi_soft_off = true;
}

void shut_down(ExitStatus status)
{
    // Every run ends here: how deep the stacks went, and a failure if one went too deep.
    if (!rt::StackWatch::the().report())
        status = ExitStatus::Failure;
    rt::println("[power] {}; {}", status == ExitStatus::Success ? "finished" : "stopped after an error", power_off_at_end ? "powering off" : "halting");
    out8(qemu_debug_exit_port, u8(status));
    if (power_off_at_end) {
        if (have_acpi_soft_off) {
            acpi_power_off(acpi_soft_off);
            rt::println("[power] ACPI S5 did not switch the machine off; trying QEMU's power-off ports");
        } else {
            rt::println("[power] no ACPI power-off found; trying QEMU's power-off ports");
        }
        for (u16 port : qemu_pm1a_control_ports)
            out16(port, sleep_enable);
    }
    rt::println("[power] it is now safe to turn the machine off");
    halt_forever();
}

}
