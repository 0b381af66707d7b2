#pragma once
#include <rt/types.h>

namespace x86 {

// The frame the entry stubs in isr.asm build, lowest address first.
struct InterruptFrame {
    u32 cr2;
    u32 edi, esi, ebp, esp_at_pushad, ebx, edx, ecx, eax;
    u32 vector, error_code;
    u32 eip, cs, eflags;
};

using InterruptHandler = void (*)(InterruptFrame&);

// Installs handlers for the 32 CPU exceptions and the 16 PIC lines.
void initialize_interrupts();
// Loads the (already built) table on another processor.
void load_interrupt_table();

// The vectors above the exceptions: 32-47 are the PIC's lines (acknowledged at the PIC
// after the handler runs), 48-63 belong to the local APIC (its driver registers what they
// need). A vector without a handler is ignored.
constexpr u8 first_device_vector = 32;
constexpr u8 last_vector = 63;
void set_vector_handler(u8 vector, InterruptHandler);

// What the fault report needs from the multiprocessor code. It registers these when it
// starts, so this file need not know about it; until then the report names CPU 0 and
// stops nothing else (only the boot CPU runs).
struct ProcessorHooks {
    u32 (*current_cpu_index)();
    void (*stop_other_processors)();
};
void set_processor_hooks(ProcessorHooks);

}
