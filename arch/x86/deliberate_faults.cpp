#include <arch/x86/deliberate_faults.h>
#include <rt/types.h>

namespace x86 {

void cause_divide_error()
{
    asm volatile("xor %%edx, %%edx; mov $1, %%eax; xor %%ecx, %%ecx; div %%ecx" ::: "eax", "ecx", "edx");
}

void cause_invalid_opcode() { asm volatile("ud2"); }

// Loads a selector that is not in the GDT into DS.
void cause_protection_fault() { asm volatile("mov %0, %%ds" ::"r"(u16(0x1234))); }

}
