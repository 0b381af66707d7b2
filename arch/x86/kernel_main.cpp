// The boot sequence: from the assembly entry to the application and back to power-off.
// The order of bring-up is here; what the command line and the boot information decide
// (screen, heap, command-line assembly, cpus=, end=, fault=) is portable policy in src/boot/.
#include <arch/x86/cpu.h>
#include <arch/x86/deliberate_faults.h>
#include <arch/x86/interrupts.h>
#include <arch/x86/panic.h>
#include <arch/x86/power.h>
#include <arch/x86/ps2_keyboard.h>
#include <arch/x86/qemu_fw_cfg.h>
#include <arch/x86/rtc.h>
#include <arch/x86/screen.h>
#include <arch/x86/serial.h>
#include <arch/x86/smp.h>
#include <arch/x86/tsc_calibration.h>
#include <arch/x86/usb_keyboard.h>
#include <rt/boot.h>
#include <rt/boot_command_line.h>
#include <rt/boot_options.h>
#include <rt/fault_injection.h>
#include <rt/heap_setup.h>
#include <rt/profile.h>
#include <rt/stack_watch.h>
#include <rt/work_pool.h>

extern "C" const u8 __kernel_start[], __kernel_end[];
extern "C" void (*const __init_array_start[])();
extern "C" void (*const __init_array_end[])();
extern "C" u8 stack_bottom[], stack_top[];

namespace {

using x86::fail;

x86::Serial serial;
x86::Ps2Keyboard keyboard;
x86::UsbKeyboards usb_keyboards;
rt::multiboot2::BootInfo boot_info;
rt::CommandLine command_line;
rt::CpuFeatures cpu;
// The whole command line (the menu entry's and QEMU fw_cfg's): rt/boot_command_line.h.
char full_command_line[rt::CommandLine::max_text];

constexpr u64 one_mib = 1024 * 1024;

void calibrate_clock()
{
    auto rate = x86::calibrate_tsc(boot_info);
    rt::CycleClock::set_frequency(rate.hz);
    rt::println("[time] TSC runs at {}.{:03} MHz ({}){}", rate.hz / 1'000'000, (rate.hz / 1000) % 1000, rate.source,
        cpu.invariant_tsc ? ", invariant" : "");
}

// The date for chat templates that write today's (strftime_now); a clock that cannot be
// read leaves them their own default.
rt::DateTime const* read_wall_clock()
{
    static rt::DateTime now;
    auto clock = x86::read_real_time_clock();
    if (clock.is_error()) {
        rt::println("[time] no date: {}", clock.error().message());
        return nullptr;
    }
    now = clock.value();
    rt::println("[time] real-time clock: {}-{:02}-{:02} {:02}:{:02}:{:02}", now.year, now.month, now.day, now.hour, now.minute, now.second);
    return &now;
}

void start_processors(uptr info_address)
{
    auto wanted = rt::boot::wanted_processor_count(command_line);
    if (wanted.is_error())
        fail(wanted.error());
    auto x2apic = rt::boot::x2apic_wanted(command_line);
    if (x2apic.is_error())
        fail(x2apic.error());
    size_t cores = x86::smp::start_processors(boot_info, info_address, wanted.value(), x2apic.value());
    rt::WorkPool::the().set_worker_count(cores);
}

void read_usb_keyboards()
{
    auto wanted = rt::boot::usb_keyboards_wanted(command_line);
    if (wanted.is_error())
        fail(wanted.error());
    if (wanted.value() && usb_keyboards.bring_up(boot_info))
        rt::Console::the().attach_input(usb_keyboards);
}

void choose_keyboard_layout()
{
    auto layout = rt::boot::keyboard_layout(command_line);
    if (layout.is_error())
        fail(layout.error());
    rt::KeyboardLayout::set_active(*layout.value());
    if (command_line.has("keymap"))
        rt::println("[keys] the keyboards type with the {} layout (keymap=)", layout.value()->name);
}

void run_global_constructors()
{
    for (auto* constructor = __init_array_start; constructor != __init_array_end; ++constructor)
        (*constructor)();
}

// Paints the boot core's stack below the part in use (and a kilobyte's margin for the
// painting call itself), so the end of the run can say how deep it went.
void watch_boot_stack()
{
    u8* live;
    asm volatile("mov %%esp, %0" : "=r"(live));
    rt::StackWatch::the().watch(0, stack_bottom, size_t(stack_top - stack_bottom), live - 1024);
}

i64 read_fw_cfg_command_line(char* out, size_t capacity)
{
    return x86::fw_cfg::read_file("opt/bareflow/cmdline", out, capacity);
}

}

extern "C" [[noreturn]] void kernel_main(u32 magic, u32 info_address)
{
    watch_boot_stack();
    bool have_serial = serial.initialize();
    rt::Console::the().attach_output(serial);
    rt::Console::the().attach_input(serial);
    rt::Console::the().attach_input(keyboard);
    // First of all, so that nothing from here on can fault unreported (a triple fault resets
    // the machine without a word): the boot information is untrusted, and a framebuffer
    // above 4 GiB turns paging on before the boot log's first line.
    x86::initialize_interrupts();

    if (magic != rt::multiboot2::bootloader_magic) {
        rt::println("[boot] not started by a Multiboot2 loader (magic {:#x}); boot BareFlow through GRUB", magic);
        x86::shut_down(x86::ExitStatus::Failure);
    }
    // The block's first word is its size; cap what we let the parser read at 1 MiB.
    u32 info_size = *reinterpret_cast<const u32*>(uptr(info_address));
    auto parsed = rt::multiboot2::parse(reinterpret_cast<const u8*>(uptr(info_address)), info_size > one_mib ? one_mib : info_size, boot_info);
    if (!parsed.is_error())
        x86::attach_screen(boot_info);

    rt::println_colored(rt::Color::Highlight, "BareFlow: a self-profiling unikernel for LLM inference");
    if (parsed.is_error())
        fail(parsed.error());
    rt::println("[boot] loader \"{}\", {} boot, serial {}", boot_info.loader_name, boot_info.efi_boot ? "UEFI" : "BIOS",
        have_serial ? "COM1 115200 8N1" : "absent");
    rt::println("[boot] command line: {}", boot_info.command_line);
    auto full_line = rt::boot::assemble_command_line(boot_info.command_line, read_fw_cfg_command_line, full_command_line);
    if (full_line.is_error())
        fail(full_line.error());
    x86::describe_screen(boot_info);

    auto cmdline_parsed = rt::CommandLine::parse(full_line.value(), command_line);
    if (cmdline_parsed.is_error())
        fail(cmdline_parsed.error());
    serial.enable_ansi_colors(command_line.has("serial_color"));
    if (auto tested = x86::run_screen_test(boot_info, command_line); tested.is_error())
        fail(tested.error());
    auto power_off = rt::boot::power_off_at_end(command_line);
    if (power_off.is_error())
        fail(power_off.error());
    if (power_off.value())
        x86::prepare_power_off(boot_info);

    x86::enable_vector_state();
    cpu = rt::detect_cpu_features();
    rt::describe_cpu_features(cpu);

    rt::println("[irq] IDT: 32 exception handlers; PIC remapped to vectors 32-47");
    calibrate_clock();
    rt::DateTime const* wall_clock = read_wall_clock();
    rt::boot::set_up_heap(boot_info, { uptr(__kernel_start), u64(uptr(__kernel_end) - uptr(__kernel_start)) }, { info_address, boot_info.total_size });
    run_global_constructors();
    start_processors(info_address);
    read_usb_keyboards();
    choose_keyboard_layout();
    auto fault = rt::boot::trigger_requested_fault(command_line, { x86::cause_divide_error, x86::cause_invalid_opcode, x86::cause_protection_fault });
    if (fault.is_error())
        fail(fault.error());

    auto result = app_main({ boot_info, command_line, cpu, wall_clock });
    if (result.is_error())
        fail(result.error());
    x86::shut_down(x86::ExitStatus::Success);
}
