#pragma once
// The batch kernels run a batch's tokens in blocks of four, whose sums run side by side,
// then the rest as one smaller block; the block's size is a template argument, so each
// size gets its own unrolled code. Included inside an instruction set's target pragma,
// like the kernels that use it (an anonymous namespace keeps each set's copy apart).
#include <rt/types.h>

namespace llm::kernels::x86 {
namespace {

template<i32 N>
struct TokenCount {
    static constexpr i32 value = N;
};
constexpr i32 token_block = 4;

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
