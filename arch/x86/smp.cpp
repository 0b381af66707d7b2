#include <arch/x86/bios_rsdp.h>
#include <arch/x86/cpu.h>
#include <arch/x86/interrupts.h>
#include <arch/x86/pit.h>
#include <arch/x86/smp.h>
#include <rt/console.h>
#include <rt/heap.h>
#include <rt/work_pool.h>

extern "C" const u8 ap_trampoline_start[], ap_trampoline_end[];
extern "C" u32 ap_stack_top, ap_index, ap_cr0, ap_cr4;

namespace x86::smp {

namespace {

constexpr size_t ap_stack_bytes = 64 * 1024;
constexpr u64 four_gib = 4ull << 30;

// Local APIC registers (offsets from its base).
enum LapicRegister : u32 { Id = 0x20, EndOfInterrupt = 0xB0, SpuriousVector = 0xF0, ErrorStatus = 0x280, CommandLow = 0x300, CommandHigh = 0x310 };
constexpr u32 apic_software_enable = 1 << 8;
constexpr u32 delivery_pending = 1 << 12;
constexpr u32 level_assert = 1 << 14;
constexpr u32 delivery_init = 5 << 8;
constexpr u32 delivery_startup = 6 << 8;

volatile u32* lapic_base;
u32 apic_ids[rt::WorkPool::max_workers]; // by cpu index
size_t cpu_count = 1;
volatile bool started[rt::WorkPool::max_workers];
// Each core's CR0 and CR4 as it joined the pool, for the report (tests read it).
u32 core_cr0[rt::WorkPool::max_workers], core_cr4[rt::WorkPool::max_workers];
constexpr u32 cr0_not_write_through = 1u << 29, cr0_cache_disable = 1u << 30;
u32 pool_generation;

u32 lapic_read(u32 reg) { return lapic_base[reg / 4]; }
void lapic_write(u32 reg, u32 value) { lapic_base[reg / 4] = value; }

void send_ipi(u32 apic_id, u32 command)
{
    lapic_write(ErrorStatus, 0);
    lapic_write(CommandHigh, apic_id << 24);
    lapic_write(CommandLow, command);
    for (int spins = 0; spins < 1'000'000 && (lapic_read(CommandLow) & delivery_pending); ++spins)
        asm volatile("pause");
}

bool wait_started(size_t index, u32 microseconds)
{
    for (u32 waited = 0; waited < microseconds; waited += 100) {
        if (started[index])
            return true;
        pit::wait_microseconds(100);
    }
    return started[index];
}

rt::ErrorOr<rt::acpi::Topology> find_topology(rt::multiboot2::BootInfo const& info)
{
    if (info.rsdp_length) {
        auto topology = rt::acpi::topology_from_rsdp(info.rsdp, info.rsdp_length, four_gib);
        if (!topology.is_error())
            return topology;
        rt::println("[smp] {}", topology.error().message());
    }
    if (auto const* rsdp = find_bios_rsdp()) {
        auto topology = rt::acpi::topology_from_rsdp(rsdp, 36, four_gib);
        if (!topology.is_error())
            return topology;
    }
    // The MP tables: the first KiB of the EBDA, the last KiB of base memory, the BIOS ROM.
    u32 ebda = u32(*reinterpret_cast<const volatile u16*>(uptr(0x40E))) << 4;
    struct Area {
        uptr start;
        size_t length;
    };
    Area mp_areas[] = { { ebda, 1024 }, { 0x9FC00, 1024 }, { 0xF0000, 0x10000 } };
    for (auto area : mp_areas) {
        if (area.start == 0)
            continue;
        auto const* pointer = rt::acpi::find_structure(reinterpret_cast<const u8*>(area.start), area.length, "_MP_", 16);
        if (pointer)
            return rt::acpi::topology_from_mp_tables(pointer, four_gib);
    }
    return rt::Error::format("no ACPI MADT and no MP tables");
}

void report_cores()
{
    core_cr0[0] = read_cr0();
    core_cr4[0] = read_cr4();
    rt::print("[smp] {} core(s) working, APIC ids:", cpu_count);
    for (size_t i = 0; i < cpu_count; ++i)
        rt::print(" {}", apic_ids[i]);
    rt::println("");
    for (size_t i = 0; i < cpu_count; ++i)
        rt::println("[smp] core {}: cr0={:#010x} cr4={:#010x}{}", i, core_cr0[i], core_cr4[i],
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

}

namespace {

// Work-pool sleeping: hlt with interrupts on for exactly that instruction (sti takes
// effect after the next one, so a wake-up sent just before cannot be missed).
void sleep_until_woken() { asm volatile("sti; hlt; cli" ::: "memory"); }

void wake(size_t worker)
{
    constexpr u32 delivery_fixed = 0;
    send_ipi(apic_ids[worker], delivery_fixed | wake_vector);
}

}

void enable_local_apic()
{
    lapic_write(SpuriousVector, apic_software_enable | spurious_vector);
}

void acknowledge_interrupt()
{
    if (lapic_base)
        lapic_write(EndOfInterrupt, 0);
}

u32 current_cpu_index()
{
    if (!lapic_base)
        return 0;
    u32 id = lapic_read(Id) >> 24;
    for (size_t i = 0; i < cpu_count; ++i)
        if (apic_ids[i] == id)
            return u32(i);
    return 0;
}

size_t start_processors(rt::multiboot2::BootInfo const& info, uptr info_address, size_t wanted)
{
    auto topology_or_error = find_topology(info);
    if (topology_or_error.is_error()) {
        rt::println("[smp] {}: running on the boot CPU only", topology_or_error.error().message());
        return 1;
    }
    auto const& topology = topology_or_error.value();
    size_t enabled = 0;
    for (size_t i = 0; i < topology.count; ++i)
        enabled += topology.processors[i].enabled;
    rt::println("[smp] {} lists {} processor(s), {} enabled; local APIC at {:#x}", topology.source, topology.count, enabled,
        topology.local_apic_address);
    if (topology.local_apic_address >= four_gib || !cpuid(1).edx || !(cpuid(1).edx & (1u << 9))) {
        rt::println("[smp] no usable local APIC: running on the boot CPU only");
        return 1;
    }
    lapic_base = reinterpret_cast<volatile u32*>(uptr(topology.local_apic_address));
    enable_local_apic();
    u32 boot_apic_id = lapic_read(Id) >> 24;
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
    __builtin_memcpy(reinterpret_cast<void*>(trampoline_address), ap_trampoline_start, size_t(ap_trampoline_end - ap_trampoline_start));

    auto& pool = rt::WorkPool::the();
    pool_generation = pool.prepare_helpers();
    pool.set_sleep_hooks({ sleep_until_woken, wake });
    for (size_t i = 0; i < topology.count && cpu_count < wanted && cpu_count < rt::WorkPool::max_workers; ++i) {
        auto const& processor = topology.processors[i];
        if (!processor.enabled || processor.apic_id == boot_apic_id)
            continue;
        auto stack = rt::Heap::the().allocate(ap_stack_bytes, 16);
        if (stack.is_error()) {
            rt::println("[smp] no memory for another stack: {}", stack.error().message());
            break;
        }
        size_t index = cpu_count;
        apic_ids[index] = processor.apic_id;
        ap_stack_top = u32(uptr(stack.value()) + ap_stack_bytes);
        ap_index = u32(index);
        started[index] = false;
        // INIT, then the start-up IPI (twice if the first is not answered), as Intel's
        // MP specification prescribes.
        send_ipi(processor.apic_id, delivery_init | level_assert);
        pit::wait_microseconds(10'000);
        send_ipi(processor.apic_id, delivery_startup | start_vector);
        if (!wait_started(index, 1'000)) {
            send_ipi(processor.apic_id, delivery_startup | start_vector);
            wait_started(index, 200'000);
        }
        if (!started[index]) {
            rt::println("[smp] CPU with APIC id {} did not start within 200 ms: left out", processor.apic_id);
            rt::Heap::the().free(stack.value());
            continue;
        }
        ++cpu_count;
        pool.set_helper_count(cpu_count - 1);
    }
    report_cores();
    return cpu_count;
}

void stop_other_processors()
{
    if (!lapic_base || cpu_count < 2)
        return;
    // An NMI to every other processor: their handler sees the machine is stopping and halts.
    constexpr u32 delivery_nmi = 4 << 8, all_excluding_self = 3 << 18;
    lapic_write(CommandHigh, 0);
    lapic_write(CommandLow, delivery_nmi | level_assert | all_excluding_self);
}

}

// Where each application processor arrives from ap_boot.asm, on its own stack.
extern "C" [[noreturn]] void ap_main(u32 index)
{
    x86::load_interrupt_table();
    x86::enable_vector_state(); // XCR0 is per processor
    x86::smp::enable_local_apic(); // so the wake-up IPI reaches this core
    x86::smp::core_cr0[index] = x86::read_cr0();
    x86::smp::core_cr4[index] = x86::read_cr4();
    x86::smp::started[index] = true;
    rt::WorkPool::the().worker_loop(index, x86::smp::pool_generation);
    x86::halt_forever();
}
