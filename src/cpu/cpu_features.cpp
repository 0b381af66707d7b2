// CPUID and XCR0 reads only: safe in user mode, so the hosted build uses this file too.
#include <rt/console.h>
#include <rt/cpu_features.h>
#include <rt/cpuid.h>

namespace rt {

namespace {

constexpr u64 xcr0_sse = 2, xcr0_avx = 4, xcr0_avx512 = 0xE0; // opmask, ZMM_Hi256, Hi16_ZMM

u64 read_xcr0()
{
    u32 low, high;
    asm volatile("xgetbv" : "=a"(low), "=d"(high) : "c"(0));
    return (u64(high) << 32) | low;
}

}

CpuFeatures detect_cpu_features()
{
    CpuFeatures f;
    auto leaf0 = cpuid(0);
    u32 max_leaf = leaf0.eax;
    u32 vendor[3] = { leaf0.ebx, leaf0.edx, leaf0.ecx };
    for (int i = 0; i < 12; ++i)
        f.vendor[i] = char(vendor[i / 4] >> (8 * (i % 4)));

    auto leaf1 = cpuid(1);
    f.stepping = leaf1.eax & 0xF;
    f.model = (leaf1.eax >> 4) & 0xF;
    f.family = (leaf1.eax >> 8) & 0xF;
    if (f.family == 0xF)
        f.family += (leaf1.eax >> 20) & 0xFF;
    if (f.family >= 6)
        f.model |= ((leaf1.eax >> 16) & 0xF) << 4;
    f.tsc = leaf1.edx & (1u << 4);
    f.apic = leaf1.edx & (1u << 9);
    f.sse2 = leaf1.edx & (1u << 26);
    f.sse3 = leaf1.ecx & (1u << 0);
    f.ssse3 = leaf1.ecx & (1u << 9);
    f.fma = leaf1.ecx & (1u << 12);
    f.sse41 = leaf1.ecx & (1u << 19);
    f.sse42 = leaf1.ecx & (1u << 20);
    f.xsave = leaf1.ecx & (1u << 26);
    bool osxsave = leaf1.ecx & (1u << 27);
    f.avx = leaf1.ecx & (1u << 28);
    f.f16c = leaf1.ecx & (1u << 29);
    f.hypervisor = leaf1.ecx & (1u << 31);
    if (max_leaf >= 7) {
        auto leaf7 = cpuid(7, 0);
        f.avx2 = leaf7.ebx & (1u << 5);
        f.avx512f = leaf7.ebx & (1u << 16);
        f.avx512bw = leaf7.ebx & (1u << 30);
        f.avx512vl = leaf7.ebx & (1u << 31);
        f.avx512_vnni = leaf7.ecx & (1u << 11);
        // Subleaf 1 exists when subleaf 0's EAX says so.
        if (leaf7.eax >= 1)
            f.avx_vnni = cpuid(7, 1).eax & (1u << 4);
    }
    // Vector units are only usable when the OS (us) enabled their register state.
    u64 xcr0 = osxsave ? read_xcr0() : 0;
    bool avx_state = (xcr0 & (xcr0_sse | xcr0_avx)) == (xcr0_sse | xcr0_avx);
    bool avx512_state = avx_state && (xcr0 & xcr0_avx512) == xcr0_avx512;
    f.avx = f.avx && avx_state;
    f.avx2 = f.avx2 && avx_state;
    f.fma = f.fma && avx_state;
    f.f16c = f.f16c && avx_state;
    f.avx512f = f.avx512f && avx512_state;
    f.avx512bw = f.avx512bw && avx512_state;
    f.avx512vl = f.avx512vl && avx512_state;
    f.avx512_vnni = f.avx512_vnni && avx512_state;
    f.avx_vnni = f.avx_vnni && avx_state;

    if (cpuid(0x80000000).eax >= 0x80000004) {
        for (u32 leaf = 0; leaf < 3; ++leaf) {
            auto r = cpuid(0x80000002 + leaf);
            u32 words[4] = { r.eax, r.ebx, r.ecx, r.edx };
            for (int i = 0; i < 16; ++i)
                f.brand[leaf * 16 + i] = char(words[i / 4] >> (8 * (i % 4)));
        }
        // Brands are padded with leading spaces on some CPUs.
        size_t start = 0;
        while (f.brand[start] == ' ')
            ++start;
        size_t i = 0;
        for (; f.brand[start + i]; ++i)
            f.brand[i] = f.brand[start + i];
        f.brand[i] = 0;
    }
    if (cpuid(0x80000000).eax >= 0x80000007)
        f.invariant_tsc = cpuid(0x80000007).edx & (1u << 8);
    return f;
}

void describe_cpu_features(CpuFeatures const& cpu)
{
    println("[cpu] {} family {} model {} stepping {}: {}", cpu.vendor, cpu.family, cpu.model, cpu.stepping, cpu.brand);
    println("[cpu] sse2={} sse3={} ssse3={} sse4.1={} sse4.2={} avx={} avx2={} fma={} avx512f={} avx512vnni={} avxvnni={}{}", cpu.sse2, cpu.sse3,
        cpu.ssse3, cpu.sse41, cpu.sse42, cpu.avx, cpu.avx2, cpu.fma, cpu.avx512f, cpu.avx512_vnni, cpu.avx_vnni, cpu.hypervisor ? " (under a hypervisor)" : "");
}

}
