#pragma once
// An instruction set's batch kernels for rows in groups of eight, 256 bits wide: Q8x8
// (q8x8_batch.h) and the interleaved GGUF types (interleaved_batch.h). AVX-512 with VNNI
// takes two groups a vector (paired_groups_batch.h). Included inside a target pragma that
// enables AVX2, after tensor.h (for MatmulInput).
#include "interleaved_batch.h"
#include "q8x8_batch.h"

namespace llm::kernels::x86 {
namespace {

template<typename Pieces>
struct GroupsBatchWith : Q8x8BatchWith<Pieces>, InterleavedBatchWith<Pieces> {
    using Q8x8BatchWith<Pieces>::q8x8_rows_batch;
    using InterleavedBatchWith<Pieces>::q4_0x8_rows_batch;
    using InterleavedBatchWith<Pieces>::q8_0x8_rows_batch;
    using InterleavedBatchWith<Pieces>::q4_kx8_rows_batch;
    using InterleavedBatchWith<Pieces>::q5_kx8_rows_batch;
    using InterleavedBatchWith<Pieces>::q6_kx8_rows_batch;
};

}
}
