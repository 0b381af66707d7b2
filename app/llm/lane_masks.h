#pragma once
// Tables for the masks vector compares give (a bit per lane), shared by the nucleus's
// passes and the kernels' variants. Tables, because the builds target CPUs without a
// population count instruction (the compiler's replacement costs a dozen), and AVX2 has no
// instruction that moves a mask's lanes to the front as AVX-512's compress does.
#include <rt/types.h>

// In an unnamed namespace: the kernels' files include this inside a target pragma, and an
// inline function shared by name would be one symbol, compiled for AVX-512 in one file and
// called from plain code in another.
namespace llm::lane_masks {
namespace {

struct BitCounts {
    u8 of_byte[256];
    constexpr BitCounts() : of_byte {}
    {
        for (u32 b = 1; b < 256; ++b)
            of_byte[b] = u8(of_byte[b / 2] + (b & 1));
    }
};
constexpr BitCounts bit_counts;

// The bits set in a mask of up to 16 lanes.
inline u32 bits_set(u32 mask) { return bit_counts.of_byte[mask & 0xFF] + bit_counts.of_byte[(mask >> 8) & 0xFF]; }

// For each mask of eight lanes, the lanes set in it in order, one per nibble (the k-th set
// lane in bits 4k to 4k + 3, the rest 0): shifted apart, the indices AVX2's vpermps takes to
// move those lanes to the front.
struct FrontIndices {
    u32 of_mask[256];
    constexpr FrontIndices() : of_mask {}
    {
        for (u32 mask = 0; mask < 256; ++mask) {
            u32 slot = 0;
            for (u32 lane = 0; lane < 8; ++lane)
                if (mask >> lane & 1)
                    of_mask[mask] |= lane << (4 * slot++);
        }
    }
};
constexpr FrontIndices front_indices;

}
}
