// Weights repacked at load so that eight rows interleave (app/llm/interleave.h): which
// tensors are repacked, and that every reader of a repacked tensor sees the plain rows
// (dequantize_row, which the embedding lookup takes). The products' bits are checked in
// test_kernels (every instruction set) and test_batch (whole models, batches).
#include "../../app/llm/interleave.h"
#include "../../app/llm/ops.h"
#include "models.h"
#include <cstring>
#include <gtest/gtest.h>
#include <vector>

namespace {

// `rows` random rows of `cols` values of `type` (Q4_0, Q8_0, Q4_K, Q5_K or Q6_K) with
// small finite scales.
std::vector<u8> random_rows(llm::TensorType type, i32 rows, i32 cols, u32 seed)
{
    std::vector<u8> bytes(size_t(rows) * llm::row_bytes(type, cols));
    for (auto& b : bytes)
        b = u8((seed = seed * 1664525u + 1013904223u) >> 24);
    size_t block = llm::block_bytes(type);
    size_t d_at = type == llm::TensorType::Q6_K ? 208 : 0;
    for (size_t at = 0; at < bytes.size(); at += block) {
        bytes[at + d_at + 1] = u8(0x20 | (bytes[at + d_at + 1] & 0x83)); // d, some negative
        if (type == llm::TensorType::Q4_K || type == llm::TensorType::Q5_K)
            bytes[at + 3] = u8(0x20 | (bytes[at + 3] & 0x83)); // dmin
    }
    return bytes;
}
std::vector<u8> random_q4_0(i32 rows, i32 cols, u32 seed) { return random_rows(llm::TensorType::Q4_0, rows, cols, seed); }

std::vector<float> dequantized(llm::Tensor const& t, i32 row)
{
    std::vector<float> out(size_t(t.cols));
    llm::dequantize_row(t, size_t(row), out.data());
    return out;
}

// Rows whose blocks do and do not fill runs of eight, one to three groups.
TEST(Interleave, DequantizedRowsAreThePlainRows)
{
    using llm::TensorType;
    struct Case {
        TensorType type;
        i32 cols;
    };
    for (auto [type, cols] : { Case { TensorType::Q4_0, 32 }, Case { TensorType::Q4_0, 224 }, Case { TensorType::Q4_0, 288 },
             Case { TensorType::Q4_0, 2048 }, Case { TensorType::Q8_0, 32 }, Case { TensorType::Q8_0, 288 }, Case { TensorType::Q8_0, 2048 },
             Case { TensorType::Q4_K, 256 }, Case { TensorType::Q4_K, 768 }, Case { TensorType::Q5_K, 256 }, Case { TensorType::Q5_K, 768 },
             Case { TensorType::Q6_K, 256 }, Case { TensorType::Q6_K, 768 } })
        for (i32 rows : { 8, 16, 24 }) {
            auto bytes = random_rows(type, rows, cols, u32(rows * 7 + cols));
            auto original = bytes;
            llm::Tensor plain { type, rows, cols, original.data() };
            llm::Tensor t { type, rows, cols, bytes.data() };
            ASSERT_TRUE(llm::can_interleave(t));
            std::vector<u8> scratch(8 * t.row_bytes());
            llm::interleave(t, bytes.data(), { scratch.data(), scratch.size() });
            EXPECT_EQ(t.type, type == TensorType::Q4_0 ? TensorType::Q4_0x8
                    : type == TensorType::Q8_0    ? TensorType::Q8_0x8
                    : type == TensorType::Q4_K    ? TensorType::Q4_Kx8
                    : type == TensorType::Q5_K    ? TensorType::Q5_Kx8
                                                  : TensorType::Q6_Kx8);
            EXPECT_NE(bytes, original) << "nothing moved";
            for (i32 r = 0; r < rows; ++r)
                ASSERT_EQ(dequantized(t, r), dequantized(plain, r)) << llm::name(type) << " row " << r << " of " << rows << ", " << cols << " columns";
        }
}

// A model's matrices: the Q4_0 ones with whole groups of eight rows are repacked, a row
// count off the group, other types and tensors outside the given memory stay plain, and
// a tied classifier is repacked once with the embedding.
TEST(Interleave, OnlyWholeGroupsInTheGivenMemoryAreRepacked)
{
    testing_support::ScopedHeap heap(4 << 20);
    constexpr i32 cols = 64;
    std::vector<u8> model = random_q4_0(8 + 16 + 12 + 8, cols, 3);
    auto original = model;
    auto outside = random_q4_0(16, cols, 4);
    size_t row = llm::row_bytes(llm::TensorType::Q4_0, cols);
    llm::Weights w;
    w.embedding = { llm::TensorType::Q4_0, 8, cols, model.data() };
    w.classifier = w.embedding;
    w.layers = rt::HeapArray<llm::Layer>::allocate(1).release_value();
    llm::Layer& layer = w.layers[0];
    layer.wq = { llm::TensorType::Q4_0, 16, cols, model.data() + 8 * row };
    layer.wk = { llm::TensorType::Q4_0, 12, cols, model.data() + 24 * row };
    layer.wv = { llm::TensorType::Q4_0, 8, cols, model.data() + 36 * row };
    layer.wo = { llm::TensorType::Q4_0, 16, cols, outside.data() };
    llm::Tensor plain[] = { w.embedding, layer.wq, layer.wk, layer.wv };
    for (auto& p : plain)
        p.data = original.data() + (p.data - model.data());
    auto repacked = llm::interleave_weights(w, { model.data(), model.size() });
    ASSERT_FALSE(repacked.is_error());
    EXPECT_EQ(repacked.value(), 3u);
    EXPECT_EQ(w.embedding.type, llm::TensorType::Q4_0x8);
    EXPECT_EQ(w.classifier.type, llm::TensorType::Q4_0x8);
    EXPECT_EQ(layer.wq.type, llm::TensorType::Q4_0x8);
    EXPECT_EQ(layer.wk.type, llm::TensorType::Q4_0) << "12 rows: not whole groups";
    EXPECT_EQ(layer.wv.type, llm::TensorType::Q4_0x8);
    EXPECT_EQ(layer.wo.type, llm::TensorType::Q4_0) << "outside the model's memory";
    EXPECT_EQ(std::memcmp(model.data() + 24 * row, original.data() + 24 * row, 12 * row), 0);
    llm::Tensor const* now[] = { &w.embedding, &layer.wq, &layer.wk, &layer.wv };
    for (size_t i = 0; i < 4; ++i)
        for (i32 r = 0; r < now[i]->rows; ++r)
            ASSERT_EQ(dequantized(*now[i], r), dequantized(plain[i], r)) << "tensor " << i << " row " << r;
    for (i32 r = 0; r < 8; ++r)
        ASSERT_EQ(dequantized(w.classifier, r), dequantized(plain[0], r)) << "classifier row " << r;
}

// llama2.c int8 (Q8): only matrices of group 32 with whole groups of eight rows become
// Q8x8, in the model's memory (a version-2 file: values then scales) or in the storage
// quant=q8 made (owned_values, owned_scales); others stay Q8, untouched. The tied
// classifier is repacked once with the embedding; every row dequantises as before; the
// inputs' group sums are asked for.
TEST(Interleave, Int8MatricesWithWholeGroupsAreRepackedWithTheirScales)
{
    testing_support::ScopedHeap heap(4 << 20);
    constexpr i32 cols = 64;
    auto quantised = [](i32 rows, u32 seed, i8* values, float* scales, i32 group) {
        std::vector<float> w(size_t(rows) * cols);
        for (auto& v : w)
            v = float(i32((seed = seed * 1664525u + 1013904223u) >> 16) % 2001 - 1000) / 1000.0f;
        llm::ops::quantize(values, scales, w.data(), rows * cols, group);
    };
    // The "file": wq (16 rows) then wk (12 rows), each values then scales.
    std::vector<u8> model(16 * cols + 16 * cols / 32 * 4 + 12 * cols + 12 * cols / 32 * 4);
    u8* wq = model.data();
    auto* wq_scales = reinterpret_cast<float*>(wq + 16 * cols);
    u8* wk = wq + 16 * cols + 16 * cols / 32 * 4;
    auto* wk_scales = reinterpret_cast<float*>(wk + 12 * cols);
    quantised(16, 1, reinterpret_cast<i8*>(wq), wq_scales, 32);
    quantised(12, 2, reinterpret_cast<i8*>(wk), wk_scales, 32);
    llm::Weights w;
    // quant=q8's storage: the embedding (8 rows, group 32), wv (8 rows, group 16).
    w.owned_values = rt::HeapArray<i8>::allocate(16 * cols).release_value();
    w.owned_scales = rt::HeapArray<float>::allocate(8 * cols / 32 + 8 * cols / 16).release_value();
    quantised(8, 3, w.owned_values.data(), w.owned_scales.data(), 32);
    quantised(8, 4, w.owned_values.data() + 8 * cols, w.owned_scales.data() + 8 * cols / 32, 16);
    // Outside both: wo.
    std::vector<i8> outside(16 * cols);
    std::vector<float> outside_scales(16 * cols / 32);
    quantised(16, 5, outside.data(), outside_scales.data(), 32);
    auto as_bytes = [](const void* p) { return static_cast<const u8*>(p); };
    w.embedding = { llm::TensorType::Q8, 8, cols, as_bytes(w.owned_values.data()), w.owned_scales.data(), 32 };
    w.classifier = w.embedding;
    w.layers = rt::HeapArray<llm::Layer>::allocate(1).release_value();
    llm::Layer& layer = w.layers[0];
    layer.wq = { llm::TensorType::Q8, 16, cols, wq, wq_scales, 32 };
    layer.wk = { llm::TensorType::Q8, 12, cols, wk, wk_scales, 32 };
    layer.wv = { llm::TensorType::Q8, 8, cols, as_bytes(w.owned_values.data() + 8 * cols), w.owned_scales.data() + 8 * cols / 32, 16 };
    layer.wo = { llm::TensorType::Q8, 16, cols, as_bytes(outside.data()), outside_scales.data(), 32 };
    llm::Tensor* all[] = { &w.embedding, &layer.wq, &layer.wk, &layer.wv, &layer.wo };
    std::vector<std::vector<std::vector<float>>> before;
    for (auto* t : all) {
        before.emplace_back();
        for (i32 r = 0; r < t->rows; ++r)
            before.back().push_back(dequantized(*t, r));
    }
    auto original = model;
    auto repacked = llm::interleave_weights(w, { model.data(), model.size() });
    ASSERT_FALSE(repacked.is_error());
    EXPECT_EQ(repacked.value(), 2u);
    EXPECT_EQ(w.embedding.type, llm::TensorType::Q8x8);
    EXPECT_EQ(w.classifier.type, llm::TensorType::Q8x8);
    EXPECT_EQ(layer.wq.type, llm::TensorType::Q8x8);
    EXPECT_EQ(layer.wk.type, llm::TensorType::Q8) << "12 rows: not whole groups";
    EXPECT_EQ(layer.wv.type, llm::TensorType::Q8) << "group 16";
    EXPECT_EQ(layer.wo.type, llm::TensorType::Q8) << "outside the model's memory";
    EXPECT_TRUE(w.input_sums);
    EXPECT_NE(std::memcmp(model.data(), original.data(), 16 * cols), 0);
    EXPECT_EQ(std::memcmp(wk, original.data() + (wk - model.data()), 12 * cols + 12 * cols / 32 * 4), 0);
    for (size_t i = 0; i < 5; ++i)
        for (i32 r = 0; r < all[i]->rows; ++r)
            ASSERT_EQ(dequantized(*all[i], r), before[i][size_t(r)]) << "tensor " << i << " row " << r;
    for (i32 r = 0; r < 8; ++r)
        ASSERT_EQ(dequantized(w.classifier, r), before[0][size_t(r)]) << "classifier row " << r;
}

}
