#include "batch.h"
#include <rt/utility.h>
#include <rt/work_pool.h>

namespace llm {

size_t batch_tile_rows(size_t row_bytes, size_t granule, size_t tile_bytes)
{
    size_t rows = row_bytes ? tile_bytes / row_bytes : granule;
    return rt::max(granule, rows / granule * granule);
}

namespace {

// Rows [begin, end) of the joined range of `products` (their rows one after another),
// tile by tile, every token on each tile. `begin` lies on the granule and so do the
// products' starts; tiles are granule multiples, so every call gets the row boundaries a
// one-token matmul chunk would (a kernel that takes rows in groups groups them alike).
// The products share a type, so once one has no batch kernel none has: the tiles after
// that are `unbatched_tile` rows.
void run_rows(rt::Span<const BatchProduct> products, rt::Span<const MatmulInput> inputs, TensorTypeTraits const& type, size_t tile,
    size_t unbatched_tile, size_t begin, size_t end)
{
    bool batched = true;
    for (size_t tile_begin = begin; tile_begin < end;) {
        size_t tile_end = rt::min(end, tile_begin + (batched ? tile : unbatched_tile));
        size_t offset = 0; // where this product's rows start in the joined range
        for (auto const& product : products) {
            size_t rows = size_t(product.weights->rows);
            size_t from = rt::max(tile_begin, offset), to = rt::min(tile_end, offset + rows);
            if (from < to) {
                batched = batched && rows_batch(product.out, product.out_stride, inputs, *product.weights, from - offset, to - offset);
                if (!batched)
                    for (size_t t = 0; t < inputs.size(); ++t)
                        type.rows(product.out + t * product.out_stride, inputs[t], *product.weights, from - offset, to - offset);
            }
            offset += rows;
        }
        tile_begin = tile_end;
    }
}

}

void matmul_batch(rt::Span<const BatchProduct> products, rt::Span<const MatmulInput> inputs)
{
    if (products.size() == 0 || inputs.size() == 0)
        return;
    JoinedRows joined = joined_rows(products);
    if (!joined.joinable) {
        for (auto const& product : products)
            matmul_batch({ &product, 1 }, inputs);
        return;
    }
    Tensor const& first = *products[0].weights;
    auto const& type = traits(first.type);
    size_t tile = batch_tile_rows(first, joined.granule);
    size_t unbatched_tile = batch_tile_rows(first.row_bytes(), joined.granule, unbatched_tile_bytes);
    rt::WorkPool::the().parallel_for(joined.total, joined.granule, [&](size_t begin, size_t end) { run_rows(products, inputs, type, tile, unbatched_tile, begin, end); },
        kernels::active().workers_for(type.op));
}

}
