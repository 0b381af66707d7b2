#pragma once
// The batch kernels run a batch's tokens in blocks of four (two in the 32-bit kernel, eight
// in AVX-512's pairs of groups), whose sums run side by side, then the rest as one smaller
// block; the block's size is a template argument, so each size gets its own unrolled code.
// Included inside an instruction set's target pragma, like the kernels that use it (an
// anonymous namespace keeps each set's copy apart).
#include <rt/types.h>

namespace llm::kernels::x86 {
namespace {

template<i32 N>
struct TokenCount {
    static constexpr i32 value = N;
};
// The 32-bit kernel has 8 vector registers, not 16: four tokens' sums spilled to the
// stack every step (a Q4_Kx8 batch kernel read or wrote it 388 times, 203 with two). Under
// QEMU's TCG the random 15M int8 model's 64-token prompt ran at a median 45, 49 and 54
// tok/s with blocks of four, two and one (three boots each, alternating); two is what the
// register budget holds, and on a real CPU a block still shares each unpacked weight.
constexpr i32 token_block = sizeof(void*) == 8 ? 4 : 2;
// AVX-512 in the 64-bit build has 32 vector registers, and its kernels of two groups a
// vector (paired_groups_batch.h) take eight tokens a block: each unpacked weight vector
// then serves eight tokens' vpdpbusd (bareflow-batch-bench, 2048 x 5632, 32 tokens:
// Q4_Kx8 114 -> 99 us a token, Q8x8 87 -> 74, Q8_0x8 113 -> 89).
constexpr i32 wide_token_block = sizeof(void*) == 8 ? 8 : token_block;

// Runs kernel(TokenCount<Size> {}, t) if `left` is Size, else tries the smaller sizes.
template<i32 Size, typename Kernel>
void in_last_block(i32 left, i32 t, Kernel const& kernel)
{
    if constexpr (Size > 0) {
        if (left == Size)
            kernel(TokenCount<Size> {}, t);
        else
            in_last_block<Size - 1>(left, t, kernel);
    }
}

// Runs kernel(TokenCount<T> {}, first token) over `tokens` tokens in blocks of `Block`,
// the rest as one smaller block.
template<i32 Block = token_block, typename Kernel>
void in_token_blocks(i32 tokens, Kernel const& kernel)
{
    i32 t = 0;
    for (; t + Block <= tokens; t += Block)
        kernel(TokenCount<Block> {}, t);
    in_last_block<Block - 1>(tokens - t, t, kernel);
}

}
}
