#pragma once
#include <rt/cpuid.h>

namespace x86 {

using rt::cpuid;

// Turns on the AVX (and AVX-512) register state in XCR0 when the CPU has it. XCR0 is
// written with exactly the bits we want: some hypervisors start with stray ones.
void enable_vector_state();

inline u32 read_cr0() { u32 v; asm volatile("mov %%cr0, %0" : "=r"(v)); return v; }
inline u32 read_cr2() { u32 v; asm volatile("mov %%cr2, %0" : "=r"(v)); return v; }
inline u32 read_cr3() { u32 v; asm volatile("mov %%cr3, %0" : "=r"(v)); return v; }
inline u32 read_cr4() { u32 v; asm volatile("mov %%cr4, %0" : "=r"(v)); return v; }
inline u32 read_mxcsr() { u32 v; asm volatile("stmxcsr %0" : "=m"(v)); return v; }
inline void write_cr0(u32 v) { asm volatile("mov %0, %%cr0" ::"r"(v) : "memory"); }
inline void write_cr3(u32 v) { asm volatile("mov %0, %%cr3" ::"r"(v) : "memory"); }
inline void write_cr4(u32 v) { asm volatile("mov %0, %%cr4" ::"r"(v)); }
inline u64 read_msr(u32 msr)
{
    u32 low, high;
    asm volatile("rdmsr" : "=a"(low), "=d"(high) : "c"(msr));
    return u64(high) << 32 | low;
}
inline void write_msr(u32 msr, u64 v) { asm volatile("wrmsr" ::"c"(msr), "a"(u32(v)), "d"(u32(v >> 32)) : "memory"); }

[[noreturn]] inline void halt_forever()
{
    for (;;)
        asm volatile("cli; hlt");
}

}
