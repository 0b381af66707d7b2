#include <arch/x86/cpu.h>

namespace x86 {

namespace {

constexpr u32 cr4_osxsave = 1u << 18;
constexpr u64 xcr0_x87 = 1, xcr0_sse = 2, xcr0_avx = 4, xcr0_avx512 = 0xE0; // opmask, ZMM_Hi256, Hi16_ZMM

void write_xcr0(u64 value)
{
    asm volatile("xsetbv" ::"a"(u32(value)), "d"(u32(value >> 32)), "c"(0));
}

bool has_xsave() { return cpuid(1).ecx & (1u << 26); }

}

void enable_vector_state()
{
    if (!has_xsave())
        return;
    write_cr4(read_cr4() | cr4_osxsave);
    u64 supported = cpuid(0xD, 0).eax | (u64(cpuid(0xD, 0).edx) << 32);
    u64 wanted = xcr0_x87 | xcr0_sse;
    if ((cpuid(1).ecx & (1u << 28)) && (supported & xcr0_avx))
        wanted |= xcr0_avx;
    if ((cpuid(7, 0).ebx & (1u << 16)) && (supported & xcr0_avx512) == xcr0_avx512)
        wanted |= xcr0_avx512;
    write_xcr0(wanted);
}

}
