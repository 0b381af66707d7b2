#pragma once
// Matrix products for a batch of tokens (the prompt, a chat turn's template text): every
// weight tile is read once per batch instead of once per token. Each (row, token) output
// is computed by the same row kernel (the tensor type's `rows`), on the same rows range
// boundaries, with the same input as the one-token product, so a batch gives the bits
// token-by-token processing gives, for every tensor type, plan and core count.
#include "tensor.h"

namespace llm {

// One product of a batch: token t's output lies at out + t * out_stride.
struct BatchProduct {
    float* out;
    size_t out_stride;
    Tensor const* weights;
};

// Rows of a tile: a multiple of `granule` whose weights (row_bytes each) fit about
// `tile_bytes`, so the tile stays in cache while every token of the batch uses it. A batch
// kernel reads a tile once for all the tokens: it stays in the L1 cache. Rows without one
// run token by token, a call for each: each call pays again for what the kernel does once
// per call (avx2tcg's rows widen the whole input, under QEMU as much work as several rows of
// weights), so their tiles are as large as an L2 cache still holds.
constexpr size_t batch_tile_bytes = 16 * 1024;
constexpr size_t unbatched_tile_bytes = 256 * 1024;
size_t batch_tile_rows(size_t row_bytes, size_t granule, size_t tile_bytes = batch_tile_bytes);
// The tile for W's batch kernel: batch_tile_rows', or more rows where the kernel does work
// per call that the rows share (batch_kernels.cpp).
size_t batch_tile_rows(Tensor const& w, size_t granule);

// out_t = W . inputs[t] for every token t and every product, in one fork-join: the rows
// (of all products joined, as matmul joins Q, K and V) are split between the cores as in
// matmul, and each core walks its rows tile by tile, running every token on a tile before
// the next. Products that matmul would not join run one fork-join each.
void matmul_batch(rt::Span<const BatchProduct>, rt::Span<const MatmulInput> inputs);

// Rows [begin, end) of W for every token at once (token t's at out + t * out_stride), with
// a kernel that unpacks each weight block once for several tokens (batch_kernels.cpp), in
// the one-token kernel's arithmetic. False where the type or the active instruction set
// has none: the caller then runs the type's rows token by token.
bool rows_batch(float* out, size_t out_stride, rt::Span<const MatmulInput> inputs, Tensor const&, size_t begin, size_t end);

}
