#pragma once
// Weights repacked at load so that eight rows' blocks interleave (interleaved_blocks.h):
// the SIMD kernels then hold one row per vector lane and need no horizontal sums. Only
// Q4_0, Q8_0, Q4_K, Q5_K and Q6_K matrices whose row count is a multiple of 8 are repacked
// (to Q4_0x8, Q8_0x8, Q4_Kx8, Q5_Kx8 and Q6_Kx8); the others stay as the file has them. Every CPU runs the new layout (its scalar reference reads it
// directly), so it is done always, and the bits of every product stay those of the
// plain type.
#include "checkpoint.h"
#include <rt/error.h>
#include <rt/span.h>

namespace llm {

// Whether `t` would be repacked. Also llama2.c int8 (Q8) matrices of group 32 with whole
// groups of eight rows, to Q8x8, their scales with them.
bool can_interleave(Tensor const&);

// The scratch `t`'s repack needs.
size_t scratch_bytes(Tensor const&);

// Repacks the rows of `t` (whose bytes are `data`, writable) in place, through `scratch`
// (scratch_bytes(t)), and gives `t` the interleaved type. Not for Q8 (below).
void interleave(Tensor& t, u8* data, rt::Span<u8> scratch);

// Q8 (group 32) to Q8x8: its values (`values`) and its scales (`scales`), both writable
// copies of t.data and t.scales, in place through `scratch` (scratch_bytes(t)).
void interleave_q8(Tensor& t, u8* values, float* scales, rt::Span<u8> scratch);

// Repacks every matrix of `weights` that can be, in place: `model` is the writable memory
// their bytes lie in (the file as loaded, used by this checkpoint alone); tensors outside
// it stay plain (Q8: the values and scales quant=q8 made, owned by `weights`, count as
// writable too). A matrix shared by two roles (a tied classifier) is repacked once.
// Returns how many tensors were repacked. With a Q8x8 among them the inputs come with
// their group sums (input_sums) from then on.
rt::ErrorOr<size_t> interleave_weights(Weights&, rt::Span<u8> model);

}
