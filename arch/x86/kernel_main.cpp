// The boot sequence: from the assembly entry to the application and back to power-off.
#include <arch/x86/cpu.h>
#include <arch/x86/interrupts.h>
#include <arch/x86/pit.h>
#include <arch/x86/power.h>
#include <arch/x86/ps2_keyboard.h>
#include <arch/x86/qemu_fw_cfg.h>
#include <arch/x86/serial.h>
#include <arch/x86/smp.h>
#include <arch/x86/vga_text.h>
#include <rt/boot.h>
#include <rt/framebuffer_console.h>
#include <rt/profile.h>
#include <rt/work_pool.h>

extern "C" const u8 __kernel_start[], __kernel_end[];
extern "C" void (*const __init_array_start[])();
extern "C" void (*const __init_array_end[])();

namespace {

[[noreturn]] void fail(rt::Error const& error);

x86::Serial serial;
x86::Ps2Keyboard keyboard;
rt::multiboot2::BootInfo boot_info;
rt::CommandLine command_line;
rt::CpuFeatures cpu;
// Storage for whichever screen console the boot loader's framebuffer calls for.
alignas(x86::VgaText) u8 vga_storage[sizeof(x86::VgaText)];
alignas(rt::FramebufferConsole) u8 framebuffer_storage[sizeof(rt::FramebufferConsole)];

constexpr u64 one_mib = 1024 * 1024;
constexpr u64 four_gib = 4ull * 1024 * 1024 * 1024;

// Picks VGA text or a pixel console from the framebuffer tag. BIOS boots without the
// tag still have VGA text at 0xB8000.
void attach_screen()
{
    auto const& fb = boot_info.framebuffer;
    if (!fb.present) {
        if (!boot_info.efi_boot) {
            auto* vga = new (vga_storage) x86::VgaText();
            vga->clear();
            rt::Console::the().attach_output(*vga);
        }
        return;
    }
    if (fb.address + u64(fb.pitch) * fb.height > four_gib) {
        rt::println("[screen] framebuffer at {:#x} is above 4 GiB: serial only", fb.address);
        return;
    }
    if (fb.type == rt::multiboot2::FramebufferType::EgaText) {
        auto* vga = new (vga_storage) x86::VgaText(uptr(fb.address), fb.width, fb.height, fb.pitch);
        vga->clear();
        rt::Console::the().attach_output(*vga);
        return;
    }
    if (fb.bpp != 32 && fb.bpp != 24 && fb.bpp != 16) {
        rt::println("[screen] {}-bit framebuffer not supported: serial only", fb.bpp);
        return;
    }
    rt::PixelFormat format { u8(fb.bpp / 8), fb.red_position, fb.red_size, fb.green_position, fb.green_size, fb.blue_position, fb.blue_size };
    auto* console = new (framebuffer_storage) rt::FramebufferConsole(reinterpret_cast<u8*>(uptr(fb.address)), fb.width, fb.height, fb.pitch, format);
    console->clear();
    rt::Console::the().attach_output(*console);
}

void describe_screen()
{
    auto const& fb = boot_info.framebuffer;
    if (!fb.present)
        rt::println("[screen] no framebuffer tag: {}", boot_info.efi_boot ? "serial only" : "VGA text 80x25");
    else if (fb.type == rt::multiboot2::FramebufferType::EgaText)
        rt::println("[screen] EGA text {}x{} at {:#x}", fb.width, fb.height, fb.address);
    else
        rt::println("[screen] framebuffer {}x{}x{} at {:#x}, pitch {}", fb.width, fb.height, fb.bpp, fb.address, fb.pitch);
}

void describe_cpu()
{
    rt::println("[cpu] {} family {} model {} stepping {}: {}", cpu.vendor, cpu.family, cpu.model, cpu.stepping, cpu.brand);
    rt::println("[cpu] sse2={} sse3={} ssse3={} sse4.1={} sse4.2={} avx={} avx2={} fma={} avx512f={}{}", cpu.sse2, cpu.sse3, cpu.ssse3,
        cpu.sse41, cpu.sse42, cpu.avx, cpu.avx2, cpu.fma, cpu.avx512f, cpu.hypervisor ? " (under a hypervisor)" : "");
}

void calibrate_clock()
{
    u64 hz = x86::pit::measure_tsc_hz();
    if (hz == 0) {
        rt::println("[time] the PIT did not count: assuming a 1 GHz TSC, times will be off");
        hz = 1'000'000'000;
    }
    rt::CycleClock::set_frequency(hz);
    rt::println("[time] TSC runs at {}.{:03} MHz (measured against the PIT){}", hz / 1'000'000, (hz / 1000) % 1000,
        cpu.invariant_tsc ? ", invariant" : "");
}

// cpus=N (default: every core found) decides how many processors share the work.
void start_processors(uptr info_address)
{
    auto wanted = command_line.get_integer("cpus", 0, 1, i64(rt::WorkPool::max_workers));
    if (wanted.is_error())
        fail(wanted.error());
    size_t limit = wanted.value() ? size_t(wanted.value()) : rt::WorkPool::max_workers;
    size_t cores = x86::smp::start_processors(boot_info, info_address, limit);
    rt::WorkPool::the().set_worker_count(cores);
}

void set_up_memory(uptr info_address)
{
    rt::MemoryRange usable[rt::multiboot2::BootInfo::max_memory_entries];
    size_t usable_count = 0;
    for (size_t i = 0; i < boot_info.memory_entry_count; ++i) {
        auto const& entry = boot_info.memory_map[i];
        if (entry.type == u32(rt::multiboot2::MemoryType::Available))
            usable[usable_count++] = { entry.base, entry.length };
    }
    // Never hand out: the BIOS area below 1 MiB, ourselves, the boot information, the modules.
    rt::MemoryRange reserved[3 + rt::multiboot2::BootInfo::max_modules];
    size_t reserved_count = 0;
    reserved[reserved_count++] = { 0, one_mib };
    reserved[reserved_count++] = { uptr(__kernel_start), u64(uptr(__kernel_end) - uptr(__kernel_start)) };
    reserved[reserved_count++] = { info_address, boot_info.total_size };
    for (size_t i = 0; i < boot_info.module_count; ++i)
        reserved[reserved_count++] = { boot_info.modules[i].start, boot_info.modules[i].size() };

    auto& heap = rt::Heap::the();
    heap.initialize({ usable, usable_count }, { reserved, reserved_count }, four_gib);
    for (size_t i = 0; i < boot_info.memory_entry_count; ++i) {
        auto const& entry = boot_info.memory_map[i];
        rt::println("[mem] {:#011x}-{:#011x} {:>8} KiB  {}", entry.base, entry.base + entry.length - 1, entry.length / 1024,
            entry.type == 1 ? "usable" : entry.type == 3 ? "ACPI reclaimable" : entry.type == 4 ? "ACPI NVS" : entry.type == 5 ? "bad" : "reserved");
    }
    rt::println("[mem] heap: {} MiB in {} regions; reserved kernel {:#x}-{:#x}, boot info, {} module(s)", heap.total_bytes() / one_mib,
        heap.regions().size(), uptr(__kernel_start), uptr(__kernel_end), boot_info.module_count);
}

void run_global_constructors()
{
    for (auto* constructor = __init_array_start; constructor != __init_array_end; ++constructor)
        (*constructor)();
}

// fault=divide|opcode|protection|ap-opcode: a deliberate CPU exception, so tests can check that a
// fault is reported and ends the run with the failure code instead of a reboot loop.
void trigger_requested_fault()
{
    auto kind = command_line.get_choice("fault", rt::fault_kinds, "");
    if (kind.is_error())
        fail(kind.error());
    if (kind.value().is_empty())
        return;
    rt::println("[fault] triggering a deliberate '{}' fault as the command line asked", kind.value());
    if (kind.value() == "divide") {
        // In assembly: the compiler may rewrite a division it can prove is by zero.
        asm volatile("xor %%edx, %%edx; mov $1, %%eax; xor %%ecx, %%ecx; div %%ecx" ::: "eax", "ecx", "edx");
    } else if (kind.value() == "opcode") {
        asm volatile("ud2");
    } else if (kind.value() == "protection") {
        asm volatile("mov %0, %%ds" ::"r"(u16(0x1234)));
    } else if (kind.value() == "ap-opcode") {
        if (rt::WorkPool::the().worker_count() < 2) {
            rt::println("[fault] only one core is working: no application processor to fault on");
            return;
        }
        // Two one-item chunks: the second goes to CPU 1, which runs into ud2.
        rt::WorkPool::the().parallel_for(2, 1, [](size_t begin, size_t) {
            if (begin == 1)
                asm volatile("ud2");
        });
    }
}

// The whole command line: the menu entry's, then what scripts/boot.sh --cmdline passed
// through QEMU's fw_cfg (appended, so it wins over the entry's defaults). A line that does
// not fit is refused with its length, never cut: a cut line still parses, wrongly.
char full_command_line[rt::CommandLine::max_text];

rt::ErrorOr<rt::StringView> assemble_command_line()
{
    rt::StringView menu = boot_info.command_line;
    constexpr size_t limit = sizeof full_command_line - 1;
    if (menu.length() > limit)
        return rt::Error::format("command line: the menu entry's is {} bytes; BareFlow takes at most {}", menu.length(), limit);
    __builtin_memcpy(full_command_line, menu.data(), menu.length());
    size_t used = menu.length();
    size_t room = limit - used - (used ? 1 : 0);
    i64 extra = x86::fw_cfg::read_file("opt/bareflow/cmdline", full_command_line + used + (used ? 1 : 0), room);
    if (extra > i64(room))
        return rt::Error::format("command line: {} bytes from the menu entry and {} from QEMU fw_cfg make {}; BareFlow takes at most {}",
            used, extra, used + (used ? 1 : 0) + size_t(extra), limit);
    if (extra > 0) {
        rt::println("[boot] appended from QEMU fw_cfg ({} bytes): {}", extra,
            rt::StringView(full_command_line + used + (used ? 1 : 0), size_t(extra)));
        if (used)
            full_command_line[used++] = ' ';
        used += size_t(extra);
    }
    full_command_line[used] = 0;
    return rt::StringView(full_command_line, used);
}

[[noreturn]] void fail(rt::Error const& error)
{
    rt::println_colored(rt::Color::Bad, "[error] {}", error.message());
    x86::shut_down(x86::ExitStatus::Failure);
}

}

namespace rt {
[[noreturn]] void panic(StringView message)
{
    println_colored(Color::Bad, "[panic] {}", message);
    x86::shut_down(x86::ExitStatus::Failure);
}
}

extern "C" [[noreturn]] void kernel_main(u32 magic, u32 info_address)
{
    bool have_serial = serial.initialize();
    rt::Console::the().attach_output(serial);
    rt::Console::the().attach_input(serial);
    rt::Console::the().attach_input(keyboard);

    if (magic != rt::multiboot2::bootloader_magic) {
        rt::println("[boot] not started by a Multiboot2 loader (magic {:#x}); boot BareFlow through GRUB", magic);
        x86::shut_down(x86::ExitStatus::Failure);
    }
    // The block's first word is its size; cap what we let the parser read at 1 MiB.
    u32 info_size = *reinterpret_cast<const u32*>(uptr(info_address));
    auto parsed = rt::multiboot2::parse(reinterpret_cast<const u8*>(uptr(info_address)), info_size > one_mib ? one_mib : info_size, boot_info);
    if (!parsed.is_error())
        attach_screen();

    rt::println_colored(rt::Color::Highlight, "BareFlow: a self-profiling unikernel for LLM inference");
    if (parsed.is_error())
        fail(parsed.error());
    rt::println("[boot] loader \"{}\", {} boot, serial {}", boot_info.loader_name, boot_info.efi_boot ? "UEFI" : "BIOS",
        have_serial ? "COM1 115200 8N1" : "absent");
    rt::println("[boot] command line: {}", boot_info.command_line);
    auto full_line = assemble_command_line();
    if (full_line.is_error())
        fail(full_line.error());
    describe_screen();

    auto cmdline_parsed = rt::CommandLine::parse(full_line.value(), command_line);
    if (cmdline_parsed.is_error())
        fail(cmdline_parsed.error());
    serial.enable_ansi_colors(command_line.has("serial_color"));
    rt::StringView endings[] = { "halt", "poweroff" };
    auto ending = command_line.get_choice("end", endings, "halt");
    if (ending.is_error())
        fail(ending.error());
    if (ending.value() == "poweroff")
        x86::prepare_power_off(boot_info);

    x86::enable_vector_state();
    cpu = x86::detect_features();
    describe_cpu();

    x86::initialize_interrupts();
    rt::println("[irq] IDT: 32 exception handlers; PIC remapped to vectors 32-47");
    calibrate_clock();
    set_up_memory(info_address);
    run_global_constructors();
    start_processors(info_address);
    trigger_requested_fault();

    auto result = app_main({ boot_info, command_line, cpu });
    if (result.is_error())
        fail(result.error());
    x86::shut_down(x86::ExitStatus::Success);
}
