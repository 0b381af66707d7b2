#pragma once
// What the runtime hands the application once the machine is up.
#include <rt/cmdline.h>
#include <rt/cpu_features.h>
#include <rt/date_time.h>
#include <rt/multiboot2.h>

namespace rt {

struct BootContext {
    multiboot2::BootInfo const& info;
    CommandLine const& command_line;
    CpuFeatures const& cpu;
    DateTime const* wall_clock; // null when the machine's clock could not be read
};

// Command-line keys the runtime itself reads; the app accepts these besides its own.
constexpr StringView runtime_command_line_keys[] = { "fault", "serial_color", "end", "cpus", "x2apic", "screen_test", "modules", "usb", "keymap" };
// The values fault= takes (a deliberate CPU exception, for testing the fault report, or a
// recursion into the boot core's stack guard, for testing rt/stack_watch.h's).
constexpr StringView fault_kinds[] = { "divide", "opcode", "protection", "ap-opcode", "stack-overflow" };

// Stops the machine after printing `message`: for broken invariants, not for bad input.
[[noreturn]] void panic(StringView message);

}

// The application's entry point. An error is printed by the runtime, and the run ends
// with the failure status.
rt::ErrorOr<void> app_main(rt::BootContext const&);
