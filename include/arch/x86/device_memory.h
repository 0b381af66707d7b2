#pragma once
// Reaching a device's registers from a 32-bit kernel: where they are when that address is
// below 4 GiB and no paging window covers it, else through a window of their own (UEFI
// firmware places 64-bit BARs above 4 GiB, QEMU's OVMF every one of them).
#include <rt/address_window.h>

namespace x86 {

// Registers at physical [physical, physical + bytes). A window for them is planned clear of
// the windows open already, the framebuffer, and `avoid` (other devices' registers the
// kernel reaches where they are), and mapped uncached; the log says where.
rt::ErrorOr<u8 volatile*> reach_device(rt::multiboot2::BootInfo const&, u64 physical, u64 bytes, rt::Span<const rt::MemoryRange> avoid);

}
