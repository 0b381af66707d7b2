#include <arch/x86/io.h>
#include <arch/x86/pci.h>

namespace x86::pci {

namespace {
constexpr u16 address_port = 0xCF8, data_port = 0xCFC;
constexpr u8 vendor_offset = 0x00, command_offset = 0x04, header_type_offset = 0x0E, first_bar_offset = 0x10;
constexpr u16 memory_space = 1u << 1, bus_master = 1u << 2, interrupt_disable = 1u << 10;

void select(Function f, u8 offset)
{
    out32(address_port, 0x80000000u | u32(f.bus) << 16 | u32(f.device) << 11 | u32(f.function) << 8 | (offset & 0xFCu));
}
}

u32 Function::read32(u8 offset) const
{
    select(*this, offset);
    return in32(data_port);
}

void Function::write32(u8 offset, u32 value) const
{
    select(*this, offset);
    out32(data_port, value);
}

u16 Function::read16(u8 offset) const { return u16(read32(offset) >> (8 * (offset & 2))); }

void Function::write16(u8 offset, u16 value) const
{
    u32 word = read32(offset);
    u32 shift = 8 * (offset & 2);
    write32(offset, (word & ~(0xFFFFu << shift)) | u32(value) << shift);
}

u64 Function::memory_bar(u32 index) const
{
    u8 offset = u8(first_bar_offset + 4 * index);
    u32 low = read32(offset);
    if (low & 1) // an I/O BAR
        return 0;
    u64 address = low & ~0xFu;
    if (((low >> 1) & 3) == 2) // 64-bit: the next BAR holds the high half
        address |= u64(read32(u8(offset + 4))) << 32;
    return address;
}

u64 Function::memory_bar_size(u32 index) const
{
    u8 offset = u8(first_bar_offset + 4 * index);
    u32 low = read32(offset);
    if (low & 1)
        return 0;
    bool wide = ((low >> 1) & 3) == 2;
    u16 command = read16(command_offset);
    write16(command_offset, u16(command & ~memory_space)); // no decoding while the BAR reads as a mask
    write32(offset, 0xFFFFFFFF);
    u64 mask = read32(offset) & ~0xFu;
    write32(offset, low);
    if (wide) {
        u32 high = read32(u8(offset + 4));
        write32(u8(offset + 4), 0xFFFFFFFF);
        mask |= u64(read32(u8(offset + 4))) << 32;
        write32(u8(offset + 4), high);
    }
    write16(command_offset, command);
    // The lowest address bit the BAR keeps: not ~mask + 1, which a 64-bit BAR whose upper
    // half reads back 0 (it decodes 32 bits only, as Bochs's xHCI) would make 4 GiB too large.
    return mask & (0 - mask);
}

void Function::enable_memory_and_dma() const
{
    write16(command_offset, u16(read16(command_offset) | memory_space | bus_master | interrupt_disable));
}

bool present(Function f) { return f.read16(vendor_offset) != 0xFFFF; }

bool is_multi_function(Function f) { return (f.read32(header_type_offset & 0xFC) >> 16) & 0x80; }

}
