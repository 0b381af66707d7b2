#pragma once
// Parsing of the Multiboot2 boot information (spec 2.0). The block comes from the boot
// loader, so nothing in it is trusted: every tag is bounds-checked and a malformed block
// is reported as an error naming the tag and offset.
#include <rt/error.h>
#include <rt/heap.h>

namespace rt::multiboot2 {

constexpr u32 bootloader_magic = 0x36d76289;

struct Module {
    u32 start;
    u32 end;
    char name[64];
    u32 size() const { return end - start; }
    Bytes bytes() const { return { reinterpret_cast<const u8*>(uptr(start)), size() }; }
    // The same memory to write: RAM the boot loader filled and the heap keeps clear of,
    // the kernel's own (the model loader rearranges weights in place, interleave.h).
    Span<u8> writable_bytes() const { return { reinterpret_cast<u8*>(uptr(start)), size() }; }
};

enum class MemoryType : u32 { Available = 1, Reserved = 2, AcpiReclaimable = 3, Nvs = 4, Bad = 5 };

struct MemoryMapEntry {
    u64 base;
    u64 length;
    u32 type;
};

enum class FramebufferType : u8 { Indexed = 0, Rgb = 1, EgaText = 2 };

struct Framebuffer {
    bool present { false };
    u64 address { 0 };
    u32 pitch { 0 };
    u32 width { 0 };
    u32 height { 0 };
    u8 bpp { 0 };
    FramebufferType type { FramebufferType::Rgb };
    u8 red_position { 0 }, red_size { 0 };
    u8 green_position { 0 }, green_size { 0 };
    u8 blue_position { 0 }, blue_size { 0 };
};

struct BootInfo {
    static constexpr size_t max_modules = 8;
    // UEFI memory maps run to a hundred entries and more; adjacent ones of the same type are
    // joined as they are read, which leaves far fewer.
    static constexpr size_t max_memory_entries = 256;

    u32 total_size { 0 };
    // Points into the information block (which stays reserved for the whole run), so a
    // command line of any length GRUB passes arrives whole.
    StringView command_line;
    char loader_name[64] {};
    Module modules[max_modules] {};
    size_t module_count { 0 };
    MemoryMapEntry memory_map[max_memory_entries] {};
    size_t memory_entry_count { 0 };
    size_t memory_entries_left_out { 0 }; // beyond max_memory_entries: the map is not whole
    u32 basic_lower_kib { 0 }, basic_upper_kib { 0 };
    Framebuffer framebuffer;
    u8 rsdp[36] {};
    size_t rsdp_length { 0 };
    bool efi_boot { false };

    // The module whose command-line string is `name`, or null.
    Module const* find_module(StringView name) const;
};

// `info` points at the information block; `available` is how many bytes may be read there
// (at most; the block's own total_size is checked against it).
ErrorOr<void> parse(const u8* info, size_t available, BootInfo& out);

}
