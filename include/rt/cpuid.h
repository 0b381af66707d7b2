#pragma once
// The CPUID instruction: unprivileged, so the kernel and the hosted build (x86-64 or
// i686 Linux) share it. Everything that needs ring 0 (control registers, XCR0 writes)
// stays in arch/x86/cpu.h.
#include <rt/types.h>

namespace rt {

struct CpuidResult {
    u32 eax, ebx, ecx, edx;
};

inline CpuidResult cpuid(u32 leaf, u32 subleaf = 0)
{
    CpuidResult r;
    asm volatile("cpuid" : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx) : "a"(leaf), "c"(subleaf));
    return r;
}

}
