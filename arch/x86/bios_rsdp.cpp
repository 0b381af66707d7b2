#include <arch/x86/bios_rsdp.h>
#include <rt/acpi.h>

namespace x86 {

const u8* find_bios_rsdp()
{
    // The BIOS data area holds the EBDA's segment at 0x40E.
    uptr ebda = uptr(*reinterpret_cast<const volatile u16*>(uptr(0x40E))) << 4;
    struct Area {
        uptr start;
        size_t length;
    };
    Area areas[] = { { ebda, 1024 }, { 0xE0000, 0x20000 } };
    for (auto area : areas) {
        if (area.start == 0)
            continue;
        if (auto const* rsdp = rt::acpi::find_structure(reinterpret_cast<const u8*>(area.start), area.length, "RSD PTR ", 20))
            return rsdp;
    }
    return nullptr;
}

}
