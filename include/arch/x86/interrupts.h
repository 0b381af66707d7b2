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

using IrqHandler = void (*)(InterruptFrame&);

// Installs handlers for the 32 CPU exceptions and the 16 PIC lines.
void initialize_interrupts();
// Loads the (already built) table on another processor.
void load_interrupt_table();
void set_irq_handler(u8 irq, IrqHandler);

inline void enable_interrupts() { asm volatile("sti"); }
inline void disable_interrupts() { asm volatile("cli"); }

// Disables interrupts for a scope and restores the previous state after it.
class InterruptDisabler {
public:
    InterruptDisabler()
    {
        u32 flags;
        asm volatile("pushfl; popl %0; cli" : "=r"(flags));
        m_were_enabled = flags & (1u << 9);
    }
    ~InterruptDisabler()
    {
        if (m_were_enabled)
            enable_interrupts();
    }

private:
    bool m_were_enabled;
};

}
