#pragma once
#include <rt/cpu_features.h>

namespace x86 {

struct CpuidResult {
    u32 eax, ebx, ecx, edx;
};

inline CpuidResult cpuid(u32 leaf, u32 subleaf = 0)
{
    CpuidResult r;
    asm volatile("cpuid" : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx) : "a"(leaf), "c"(subleaf));
    return r;
}

// Turns on the AVX (and AVX-512) register state in XCR0 when the CPU has it. XCR0 is
// written with exactly the bits we want: some hypervisors start with stray ones.
void enable_vector_state();

// Reads CPUID; the AVX family is reported usable only if XCR0 has its state enabled.
rt::CpuFeatures detect_features();

inline u32 read_cr0() { u32 v; asm volatile("mov %%cr0, %0" : "=r"(v)); return v; }
inline u32 read_cr2() { u32 v; asm volatile("mov %%cr2, %0" : "=r"(v)); return v; }
inline u32 read_cr3() { u32 v; asm volatile("mov %%cr3, %0" : "=r"(v)); return v; }
inline u32 read_cr4() { u32 v; asm volatile("mov %%cr4, %0" : "=r"(v)); return v; }
inline void write_cr4(u32 v) { asm volatile("mov %0, %%cr4" ::"r"(v)); }

[[noreturn]] inline void halt_forever()
{
    for (;;)
        asm volatile("cli; hlt");
}

}
