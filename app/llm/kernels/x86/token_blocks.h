#pragma once
// The batch kernels run a batch's tokens in blocks of four (two in the 32-bit kernel),
// whose sums run side by side, then the rest as one smaller block; the block's size is a
// template argument, so each size gets its own unrolled code. Included inside an instruction set's target pragma,
// like the kernels that use it (an anonymous namespace keeps each set's copy apart).
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

// Runs kernel(TokenCount<T> {}, first token) over `tokens` tokens.
template<typename Kernel>
void in_token_blocks(i32 tokens, Kernel const& kernel)
{
    i32 t = 0;
    for (; t + token_block <= tokens; t += token_block)
        kernel(TokenCount<token_block> {}, t);
    switch (tokens - t) {
    case 3: kernel(TokenCount<3> {}, t); break;
    case 2: kernel(TokenCount<2> {}, t); break;
    case 1: kernel(TokenCount<1> {}, t); break;
    default: break;
    }
}

}
}
