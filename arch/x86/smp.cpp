// Application-processor start-up: the trampoline page, INIT-SIPI-SIPI, each core's entry
// (ap_main) and the bookkeeping of which core is which.
#include <arch/x86/cpu.h>
#include <arch/x86/interrupts.h>
#include <arch/x86/local_apic.h>
#include <arch/x86/paging.h>
#include <arch/x86/processor_discovery.h>
#include <arch/x86/smp.h>
#include <arch/x86/tsc_calibration.h>
#include <rt/console.h>
#include <rt/cpu_features.h>
#include <rt/cycles.h>
#include <rt/heap.h>
#include <rt/stack_watch.h>
#include <rt/work_pool.h>

extern "C" const u8 ap_trampoline_start[], ap_trampoline_end[];
extern "C" u32 ap_stack_top, ap_index, ap_cr0, ap_cr4, ap_cr3;

namespace x86::smp {

namespace {

constexpr size_t ap_stack_bytes = 64 * 1024;
constexpr u64 four_gib = 4ull << 30;

u32 apic_ids[rt::WorkPool::max_workers]; // by cpu index
size_t cpu_count = 1;
volatile bool started[rt::WorkPool::max_workers];
// Each core's CR0, CR4 and MXCSR as it joined the pool, for the report (tests read it).
u32 core_cr0[rt::WorkPool::max_workers], core_cr4[rt::WorkPool::max_workers], core_mxcsr[rt::WorkPool::max_workers];
LocalApic::Mode core_apic_mode[rt::WorkPool::max_workers];
constexpr u32 cr0_not_write_through = 1u << 29, cr0_cache_disable = 1u << 30;
u32 pool_generation;

bool wait_started(size_t index, u32 microseconds)
{
    for (u32 waited = 0; waited < microseconds; waited += 100) {
        if (started[index])
            return true;
        wait_microseconds(100);
    }
    return started[index];
}

void report_cores()
{
    core_cr0[0] = read_cr0();
    core_cr4[0] = read_cr4();
    core_mxcsr[0] = read_mxcsr();
    core_apic_mode[0] = LocalApic::the().mode_of_this_processor();
    rt::print("[smp] {} core(s) working, APIC ids:", cpu_count);
    for (size_t i = 0; i < cpu_count; ++i)
        rt::print(" {}", apic_ids[i]);
    rt::println("");
    for (size_t i = 0; i < cpu_count; ++i)
        rt::println("[smp] core {}: cr0={:#010x} cr4={:#010x} mxcsr={:#010x} apic={}{}", i, core_cr0[i], core_cr4[i], core_mxcsr[i],
            core_apic_mode[i] == LocalApic::Mode::X2Apic ? "x2APIC" : "xAPIC",
            core_cr0[i] & (cr0_cache_disable | cr0_not_write_through) ? " (caches off!)" : "");
}

// The trampoline page must be free: usable RAM, and not where GRUB put our boot data.
bool page_is_free(rt::multiboot2::BootInfo const& info, uptr info_address, uptr address)
{
    rt::MemoryRange page { address, 4096 };
    bool usable = false;
    for (size_t i = 0; i < info.memory_entry_count; ++i) {
        auto const& e = info.memory_map[i];
        if (e.type == 1 && e.base <= page.base && page.end() <= e.base + e.length)
            usable = true;
    }
    if (!usable || page.overlaps({ info_address, info.total_size }))
        return false;
    for (size_t i = 0; i < info.module_count; ++i)
        if (page.overlaps({ info.modules[i].start, info.modules[i].size() }))
            return false;
    return true;
}

// Work-pool sleeping: hlt with interrupts on for exactly that instruction (sti takes
// effect after the next one, so a wake-up sent just before cannot be missed).
void sleep_until_woken() { asm volatile("sti; hlt; cli" ::: "memory"); }

void wake(size_t worker)
{
    LocalApic::the().send_fixed(apic_ids[worker], LocalApic::wake_vector);
}

// The index (0 = boot CPU) of the processor running this code, for the fault report.
u32 current_cpu_index()
{
    if (!LocalApic::the().is_present())
        return 0;
    u32 id = LocalApic::the().id();
    for (size_t i = 0; i < cpu_count; ++i)
        if (apic_ids[i] == id)
            return u32(i);
    return 0;
}

// When a fault stops the run: an NMI to every other processor, whose handler sees the
// machine is stopping and halts.
void stop_other_processors()
{
    if (!LocalApic::the().is_present() || cpu_count < 2)
        return;
    LocalApic::the().send_nmi_to_others();
}

// Whether a core needs the 10 ms between INIT and the start-up IPI that Intel's MP
// specification asks for. The processors of Intel's family 6 (Pentium Pro to this day)
// and AMD's from family 0Fh on start at once, as Linux has relied on since 2015; a
// 64-core machine would otherwise spend 0.63 s in these waits alone.
bool needs_init_delay()
{
    auto cpu = rt::detect_cpu_features();
    rt::StringView vendor(cpu.vendor);
    bool modern = (vendor == "GenuineIntel" && cpu.family == 6) || (vendor == "AuthenticAMD" && cpu.family >= 0x0F)
        || (vendor == "HygonGenuine" && cpu.family >= 0x18);
    return !modern;
}

// How the local APICs are driven, and why, for the boot log.
void report_apic_mode(LocalApic const& apic)
{
    using Reason = LocalApic::Reason;
    switch (apic.reason()) {
    case Reason::FirmwareLeftIt:
        rt::println("[smp] local APICs in x2APIC mode, as the firmware left them");
        break;
    case Reason::Requested:
        rt::println("[smp] local APICs switched to x2APIC mode (x2apic=on)");
        break;
    case Reason::RequestedButMissing:
        rt::println("[smp] x2apic=on, but this CPU has no x2APIC: local APICs in xAPIC mode");
        break;
    case Reason::Default:
        rt::println("[smp] local APICs in xAPIC mode");
        break;
    }
}

}

size_t start_processors(rt::multiboot2::BootInfo const& info, uptr info_address, size_t wanted, bool want_x2apic)
{
    set_processor_hooks({ current_cpu_index, stop_other_processors });
    auto topology_or_error = discover_processors(info);
    if (topology_or_error.is_error()) {
        rt::println("[smp] {}: running on the boot CPU only", topology_or_error.error().message());
        return 1;
    }
    auto const& topology = topology_or_error.value();
    size_t enabled = 0;
    for (size_t i = 0; i < topology.count; ++i)
        enabled += topology.processors[i].enabled;
    rt::println("[smp] {} lists {} processor(s), {} enabled; local APIC at {:#x}", topology.source, topology.listed, enabled,
        topology.local_apic_address);
    if (topology.local_apic_address >= four_gib || !cpuid(1).edx || !(cpuid(1).edx & (1u << 9))) {
        rt::println("[smp] no usable local APIC: running on the boot CPU only");
        return 1;
    }
    auto& apic = LocalApic::the();
    apic.initialize(uptr(topology.local_apic_address), want_x2apic);
    apic.enable();
    report_apic_mode(apic);
    u32 boot_apic_id = apic.id();
    apic_ids[0] = boot_apic_id;
    rt::println("[smp] CPU 0 is the boot processor (APIC id {})", boot_apic_id);
    if (wanted < enabled)
        rt::println("[smp] limited to {} of {} enabled processor(s) (cpus= or the work pool's maximum)", wanted, enabled);
    if (wanted <= 1 || enabled <= 1) {
        report_cores();
        return 1;
    }

    // A start-up IPI names a 4 KiB page below 1 MiB: take the first free one.
    uptr trampoline_address = 0;
    for (uptr candidate = 0x8000; candidate < 0x9F000 && !trampoline_address; candidate += 0x1000)
        if (page_is_free(info, info_address, candidate))
            trampoline_address = candidate;
    if (!trampoline_address) {
        rt::println("[smp] no free page below 1 MiB for the start-up code: running on the boot CPU only");
        return 1;
    }
    u8 start_vector = u8(trampoline_address >> 12);
    // Every core runs with the boot CPU's control registers (caches, x87/SSE, XSAVE bits).
    ap_cr0 = read_cr0() & ~(cr0_cache_disable | cr0_not_write_through);
    ap_cr4 = read_cr4();
    ap_cr3 = paging::tables_for_other_processors();
    __builtin_memcpy(reinterpret_cast<void*>(trampoline_address), ap_trampoline_start, size_t(ap_trampoline_end - ap_trampoline_start));

    auto& pool = rt::WorkPool::the();
    pool_generation = pool.prepare_helpers();
    u32 init_delay_us = needs_init_delay() ? 10'000 : 0;
    u64 starting = rt::read_cycles();
    pool.set_sleep_hooks({ sleep_until_woken, wake });
    for (size_t i = 0; i < topology.count && cpu_count < wanted && cpu_count < rt::WorkPool::max_workers; ++i) {
        auto const& processor = topology.processors[i];
        if (!processor.enabled || processor.apic_id == boot_apic_id)
            continue;
        if (processor.apic_id > apic.highest_reachable_id()) {
            rt::println("[smp] CPU with APIC id {} is beyond xAPIC's 8-bit ids: left out (x2apic=on reaches it)", processor.apic_id);
            continue;
        }
        auto stack = rt::Heap::the().allocate(ap_stack_bytes, 16);
        if (stack.is_error()) {
            rt::println("[smp] no memory for another stack: {}", stack.error().message());
            break;
        }
        size_t index = cpu_count;
        rt::StackWatch::the().watch(index, static_cast<u8*>(stack.value()), ap_stack_bytes, static_cast<u8*>(stack.value()) + ap_stack_bytes);
        apic_ids[index] = processor.apic_id;
        ap_stack_top = u32(uptr(stack.value()) + ap_stack_bytes);
        ap_index = u32(index);
        started[index] = false;
        // INIT, then the start-up IPI (twice if the first is not answered), as Intel's
        // MP specification prescribes.
        apic.send_init(processor.apic_id);
        wait_microseconds(init_delay_us);
        apic.send_startup(processor.apic_id, start_vector);
        if (!wait_started(index, 1'000)) {
            apic.send_startup(processor.apic_id, start_vector);
            wait_started(index, 200'000);
        }
        if (!started[index]) {
            rt::println("[smp] CPU with APIC id {} did not start within 200 ms: left out", processor.apic_id);
            // Held in INIT before its stack goes back and the start-up variables are
            // set for the next core: one that starts late (a vCPU its host did not run
            // in time) would otherwise take both, and run as that core's twin.
            apic.send_init(processor.apic_id);
            wait_microseconds(10'000);
            rt::StackWatch::the().forget(index);
            rt::Heap::the().free(stack.value());
            continue;
        }
        ++cpu_count;
        pool.set_helper_count(cpu_count - 1);
    }
    rt::println("[smp] {} application processor(s) started in {:.1f} ms{}", cpu_count - 1,
        rt::CycleClock::to_microseconds(rt::read_cycles() - starting) / 1000.0, init_delay_us ? " (10 ms after each INIT)" : "");
    report_cores();
    return cpu_count;
}

}

// Where each application processor arrives from ap_boot.asm, on its own stack.
extern "C" [[noreturn]] void ap_main(u32 index)
{
    x86::load_interrupt_table();
    x86::paging::match_boot_processor();
    x86::enable_vector_state(); // XCR0 is per processor
    x86::LocalApic::the().enable(); // so the wake-up IPI reaches this core
    x86::smp::core_cr0[index] = x86::read_cr0();
    x86::smp::core_cr4[index] = x86::read_cr4();
    x86::smp::core_mxcsr[index] = x86::read_mxcsr();
    x86::smp::core_apic_mode[index] = x86::LocalApic::the().mode_of_this_processor();
    x86::smp::started[index] = true;
    rt::WorkPool::the().worker_loop(index, x86::smp::pool_generation);
    x86::halt_forever();
}
