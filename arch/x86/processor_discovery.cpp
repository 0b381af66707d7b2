#include <arch/x86/bios_rsdp.h>
#include <arch/x86/processor_discovery.h>
#include <rt/console.h>

namespace x86 {

namespace {

constexpr u64 four_gib = 4ull << 30;

}

rt::ErrorOr<rt::acpi::Topology> discover_processors(rt::multiboot2::BootInfo const& info)
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

}
