#pragma once
// What a run of the nucleus's tokens adds to a running float sum whose ulp is u, when every
// addition rounds to a multiple of u (nucleus.h says when): the integer sum of each token's
// probability over u, rounded to the nearest integer, as far as the first token that lies
// exactly halfway between two (its rounding then depends on the sum, which only adding in
// order tells). Computed by ops::rounded_units and the instruction sets' variants
// (kernels/operations.h), all with the same result.
#include <rt/types.h>

namespace llm {

struct RoundedUnits {
    u64 units;      // of the tokens before the first halfway one
    u32 halfway_at; // that token's index; the count when none is
};

// Tokens are taken in blocks of this many; the sum stops after the first block that
// reaches the caller's limit (every variant stops at the same place). Each token adds at
// most 2^22 units, so a block's sum fits 32 bits in any split between vector lanes.
constexpr u32 rounded_units_block = 256;

}
