#pragma once
#include <rt/error.h>
#include <rt/multiboot2.h>

namespace x86 {

// The ACPI RSDP where a PC BIOS leaves it (the first KiB of the EBDA, then
// 0xE0000-0xFFFFF), or null. GRUB's Multiboot2 copy, when there is one, comes first.
const u8* find_bios_rsdp();

// `read(rsdp, length)` (an rt::acpi reader, returning ErrorOr) on GRUB's copy of the RSDP,
// then, when that fails or GRUB passed none, on the one in the BIOS areas.
template<typename Read>
auto read_acpi(rt::multiboot2::BootInfo const& info, Read const& read) -> decltype(read(info.rsdp, size_t(0)))
{
    auto const* bios_rsdp = find_bios_rsdp();
    if (info.rsdp_length) {
        auto found = read(info.rsdp, info.rsdp_length);
        if (!found.is_error() || !bios_rsdp)
            return found;
    }
    if (bios_rsdp)
        return read(bios_rsdp, 36);
    return rt::Error::format("acpi: no RSDP (GRUB passed none, and none is in the BIOS areas)");
}

}
