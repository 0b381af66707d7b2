#include <rt/tsc_rate.h>

namespace rt {

u64 tsc_hz_from_cpuid(u32 highest_leaf, CpuidResult leaf_15h, CpuidResult leaf_16h)
{
    // Leaf 0x15: EAX the ratio's denominator, EBX its numerator, ECX the crystal in Hz
    // (0 where the CPU does not say: many client parts).
    if (highest_leaf >= 0x15 && leaf_15h.eax && leaf_15h.ebx && leaf_15h.ecx)
        return u64(leaf_15h.ecx) * leaf_15h.ebx / leaf_15h.eax;
    // Leaf 0x16: EAX the base frequency in MHz.
    if (highest_leaf >= 0x16 && (leaf_16h.eax & 0xFFFF))
        return u64(leaf_16h.eax & 0xFFFF) * 1'000'000;
    return 0;
}

}
