#include <rt/console.h>
#include <rt/heap_setup.h>

namespace rt::boot {

namespace {

constexpr u64 one_mib = 1024 * 1024;
constexpr u64 four_gib = 4ull * 1024 * 1024 * 1024;

}

HeapLayout plan_heap(multiboot2::BootInfo const& info, MemoryRange kernel, MemoryRange boot_information)
{
    HeapLayout layout;
    for (size_t i = 0; i < info.memory_entry_count; ++i) {
        auto const& entry = info.memory_map[i];
        if (entry.type == u32(multiboot2::MemoryType::Available))
            layout.usable[layout.usable_count++] = { entry.base, entry.length };
    }
    // Never hand out: the BIOS area below 1 MiB, ourselves, the boot information, the modules.
    layout.reserved[layout.reserved_count++] = { 0, one_mib };
    layout.reserved[layout.reserved_count++] = kernel;
    layout.reserved[layout.reserved_count++] = boot_information;
    for (size_t i = 0; i < info.module_count; ++i)
        layout.reserved[layout.reserved_count++] = { info.modules[i].start, info.modules[i].size() };
    return layout;
}

void set_up_heap(multiboot2::BootInfo const& info, MemoryRange kernel, MemoryRange boot_information)
{
    auto layout = plan_heap(info, kernel, boot_information);
    auto& heap = Heap::the();
    heap.initialize({ layout.usable, layout.usable_count }, { layout.reserved, layout.reserved_count }, four_gib);
    for (size_t i = 0; i < info.memory_entry_count; ++i) {
        auto const& entry = info.memory_map[i];
        // Types past the specification's five (GRUB passes on others, such as 20 for UEFI's
        // runtime code) are reserved, and named by number.
        auto kind = entry.type == 1 ? "usable" : entry.type == 3 ? "ACPI reclaimable" : entry.type == 4 ? "ACPI NVS" : entry.type == 5 ? "bad" : "reserved";
        if (entry.type == 2 || entry.type <= 5)
            println("[mem] {:#011x}-{:#011x} {:>8} KiB  {}", entry.base, entry.base + entry.length - 1, entry.length / 1024, kind);
        else
            println("[mem] {:#011x}-{:#011x} {:>8} KiB  {} (type {})", entry.base, entry.base + entry.length - 1, entry.length / 1024, kind, entry.type);
    }
    if (info.memory_entries_left_out)
        println("[mem] {} more memory map entries left out (BareFlow keeps {}): their memory is not used",
            info.memory_entries_left_out, multiboot2::BootInfo::max_memory_entries);
    println("[mem] heap: {} MiB in {} regions; reserved kernel {:#x}-{:#x}, boot info, {} module(s)", heap.total_bytes() / one_mib,
        heap.regions().size(), uptr(kernel.base), uptr(kernel.end()), info.module_count);
}

}
