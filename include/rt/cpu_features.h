#pragma once
// What the processor can do, as far as BareFlow cares: read with CPUID, with the vector
// extensions counted as usable only when the OS-state bits (XCR0) are also enabled.
#include <rt/types.h>

namespace rt {

struct CpuFeatures {
    char vendor[13] {};
    char brand[49] {};
    u32 family { 0 }, model { 0 }, stepping { 0 };
    bool sse2 { false }, sse3 { false }, ssse3 { false }, sse41 { false }, sse42 { false };
    bool xsave { false }, avx { false }, avx2 { false }, fma { false }, f16c { false };
    bool avx512f { false }, avx512bw { false }, avx512vl { false };
    bool avx512_vnni { false }, avx_vnni { false }; // vpdpbusd: EVEX (AVX-512) or VEX encoded
    bool tsc { false }, invariant_tsc { false }, apic { false }, hypervisor { false };
};

// Reads CPUID (and XCR0 with xgetbv, also allowed in user mode); the AVX family is
// reported usable only if XCR0 has its register state enabled. The kernel calls it after
// arch/x86 has set XCR0; the hosted build calls it as it is, and sees what Linux enabled.
CpuFeatures detect_cpu_features();
// The two "[cpu] ..." lines of the boot report.
void describe_cpu_features(CpuFeatures const&);

}
