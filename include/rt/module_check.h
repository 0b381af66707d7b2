#pragma once
// Why a module is missing. GRUB boots on when a `module2` command fails (a file too large
// for the machine's memory, say), so a module GRUB could not load looks exactly like one
// nobody asked for. scripts/mkiso.sh therefore records on each menu entry's command line
// the modules the entry loads and their sizes: `modules=model:1056512,tokenizer:6227`.
#include <rt/error.h>
#include <rt/multiboot2.h>

namespace rt::multiboot2 {

// Fails, naming the module, when a module in `recorded` (that key's value; may be empty)
// did not arrive, or when any module arrived empty. A missing module's error says how
// large its file is and how much memory the machine has.
ErrorOr<void> check_modules(BootInfo const&, StringView recorded);

// The bytes of memory the memory map calls usable.
u64 usable_memory_bytes(BootInfo const&);

}
