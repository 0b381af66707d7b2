#pragma once
// PCI configuration space through the PC's ports 0xCF8/0xCFC (configuration mechanism #1,
// which every PC chipset since the 1990s decodes), enough to find a controller by its class
// and reach its registers.
#include <rt/types.h>

namespace x86::pci {

struct Function {
    u8 bus, device, function;

    u32 read32(u8 offset) const;
    void write32(u8 offset, u32 value) const;
    u16 read16(u8 offset) const;
    void write16(u8 offset, u16 value) const;

    u16 vendor() const { return read16(0x00); }
    u16 device_id() const { return read16(0x02); }
    // Base class, subclass and programming interface (the class code's three bytes).
    u32 class_code() const { return read32(0x08) >> 8; }
    // Where memory BAR `index` decodes (both halves of a 64-bit one); 0 for an I/O BAR or
    // one the firmware left unassigned.
    u64 memory_bar(u32 index) const;
    // How many bytes that BAR decodes (the device says by the address bits it ignores).
    u64 memory_bar_size(u32 index) const;
    // Memory decoding and bus mastering on (a controller reads its rings from RAM), its
    // legacy interrupt line off: the kernel polls.
    void enable_memory_and_dma() const;
};

// Calls visit(function) for every function present on buses 0-255 whose class code (base,
// subclass, interface) is `class_code`; at most `most` of them.
template<typename Visit>
u32 for_each_with_class(u32 class_code, u32 most, Visit&& visit);

bool present(Function);
bool is_multi_function(Function);

template<typename Visit>
u32 for_each_with_class(u32 class_code, u32 most, Visit&& visit)
{
    u32 found = 0;
    for (u32 bus = 0; bus < 256; ++bus)
        for (u8 device = 0; device < 32; ++device) {
            Function first { u8(bus), device, 0 };
            if (!present(first))
                continue;
            u8 functions = is_multi_function(first) ? 8 : 1;
            for (u8 function = 0; function < functions; ++function) {
                Function candidate { u8(bus), device, function };
                if (!present(candidate) || candidate.class_code() != class_code)
                    continue;
                visit(candidate);
                if (++found == most)
                    return found;
            }
        }
    return found;
}

}
