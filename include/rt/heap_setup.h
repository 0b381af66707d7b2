#pragma once
// Which memory the heap gets at boot: the boot loader's available regions, minus what must
// never be handed out.
#include <rt/multiboot2.h>

namespace rt::boot {

struct HeapLayout {
    MemoryRange usable[multiboot2::BootInfo::max_memory_entries];
    size_t usable_count { 0 };
    MemoryRange reserved[3 + multiboot2::BootInfo::max_modules];
    size_t reserved_count { 0 };
};

// Usable: the memory map's available entries. Reserved: the BIOS area below 1 MiB, the
// kernel image, the boot information block, every module.
HeapLayout plan_heap(multiboot2::BootInfo const&, MemoryRange kernel, MemoryRange boot_information);

// Gives rt::Heap the planned memory (addresses below 4 GiB) and reports the memory map
// and the result ("[mem] ..." lines).
void set_up_heap(multiboot2::BootInfo const&, MemoryRange kernel, MemoryRange boot_information);

}
