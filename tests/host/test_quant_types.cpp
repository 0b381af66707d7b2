// The GGUF types that llama-quantize's popular files add to Q4_0/Q8_0/Q4_K/Q6_K: Q5_0
// (its fallback for rows that are not whole 256-value super-blocks), Q5_1, Q4_1, Q5_K (Q5_K_M
// files), Q3_K (Q3_K_M files) and Q2_K (Q2_K files). Each kernel against the scalar reference bit for bit on
// every instruction set; the reference against the dequantised weights; the writer's
// quantisers against their input; whole models in each type and mix against the float
// model; and the header checks that still refuse a tensor of a new type with a wrong size.
#include "../../app/llm/gguf.h"
#include "../../app/llm/gguf_model.h"
#include "../../app/llm/kernels/kernels.h"
#include "../../app/llm/ops.h"
#include "../../app/llm/transformer.h"
#include "../../app/tools/block_quantize.h"
#include "../../app/tools/gguf_writer.h"
#include "../../app/tools/quant_mix.h"
#include "models.h"
#include "random_data.h"
#include <cmath>
#include <cstring>
#include <gtest/gtest.h>
#include <map>
#include <rt/cpu_features.h>
#include <string>
#include <vector>

namespace {

using llm::kernels::Isa;
using Kernel = llm::kernels::MatmulKBlocks;

struct NewType {
    const char* name;
    u32 ggml;
    Kernel reference;
    void (*dequantize)(const u8*, float*);
    rt::Span<const llm::kernels::Variant<Kernel>> (*variants)();
};

const NewType new_types[] = {
    { "Q5_0", tools::q5_0, llm::ops::matmul_q5_0, llm::ops::dequantize_q5_0, llm::kernels::gguf_q5_0_variants },
    { "Q5_1", tools::q5_1, llm::ops::matmul_q5_1, llm::ops::dequantize_q5_1, llm::kernels::gguf_q5_1_variants },
    { "Q4_1", tools::q4_1, llm::ops::matmul_q4_1, llm::ops::dequantize_q4_1, llm::kernels::gguf_q4_1_variants },
    { "Q5_K", tools::q5_k, llm::ops::matmul_q5_k, llm::ops::dequantize_q5_k, llm::kernels::gguf_q5_k_variants },
    { "Q3_K", tools::q3_k, llm::ops::matmul_q3_k, llm::ops::dequantize_q3_k, llm::kernels::gguf_q3_k_variants },
    { "Q2_K", tools::q2_k, llm::ops::matmul_q2_k, llm::ops::dequantize_q2_k, llm::kernels::gguf_q2_k_variants },
};

u64 block_values(u32 ggml)
{
    u64 values = 0, bytes = 0;
    EXPECT_TRUE(llm::gguf::block_layout(ggml, values, bytes));
    return values;
}
u64 block_bytes(u32 ggml)
{
    u64 values = 0, bytes = 0;
    EXPECT_TRUE(llm::gguf::block_layout(ggml, values, bytes));
    return bytes;
}

// Random block bytes with small finite f16 scales where each layout keeps them (random
// halves could be infinite or NaN, and NaN compares unequal even to itself).
// The blocks start `skew` bytes into the result.
std::vector<u8> random_blocks(u32 ggml, size_t blocks, u32 seed, size_t skew = 0)
{
    size_t bytes = size_t(block_bytes(ggml));
    std::vector<u8> data(skew + blocks * bytes);
    for (auto& b : data)
        b = u8((seed = seed * 1664525u + 1013904223u) >> 24);
    for (size_t at = skew; at < data.size(); at += bytes) {
        u8* b = data.data() + at;
        switch (ggml) {
        case tools::q5_0: b[1] = 0x20; break;              // d
        case tools::q5_1: b[1] = 0x20, b[3] = 0xA0; break; // d, and m negative
        case tools::q4_1: b[1] = 0x20, b[3] = 0xA0; break; // d, and m negative
        case tools::q5_k: b[1] = 0x20, b[3] = 0x1C; break; // d, dmin
        case tools::q3_k: b[109] = 0x20; break;            // d
        case tools::q2_k: b[81] = 0x20, b[83] = 0x1C; break; // d, dmin
        }
    }
    return data;
}

// The input of a product: quantised in groups of 32, with the groups' sums.
struct Input {
    std::vector<i8> q;
    std::vector<float> s;
    std::vector<i32> sums;
    explicit Input(i32 n, u32 seed)
        : q(size_t(n)), s(size_t(n / 32)), sums(size_t(n / 32))
    {
        auto x = random_floats(size_t(n), seed, 3.0f);
        llm::ops::quantize(q.data(), s.data(), x.data(), n, 32);
        llm::ops::group_sums(sums.data(), q.data(), n, 32);
    }
};

rt::CpuFeatures const& cpu()
{
    static rt::CpuFeatures features = rt::detect_cpu_features();
    return features;
}

const char* isa_name(Isa isa)
{
    switch (isa) {
    case Isa::Sse2: return "sse2";
    case Isa::Avx2Tcg: return "avx2tcg";
    case Isa::Avx2: return "avx2";
    case Isa::AvxVnni: return "avxvnni";
    case Isa::Avx512: return "avx512";
    case Isa::Avx512Vnni: return "avx512vnni";
    default: return "scalar";
    }
}

class NewTypeVariants : public testing::TestWithParam<Isa> {
protected:
    void SetUp() override
    {
        if (!llm::kernels::can_run(GetParam(), cpu()))
            GTEST_SKIP() << isa_name(GetParam()) << " variants not checked: this CPU cannot run them";
    }
};

INSTANTIATE_TEST_SUITE_P(QuantTypes, NewTypeVariants, testing::Values(Isa::Sse2, Isa::Avx2Tcg, Isa::Avx2, Isa::AvxVnni, Isa::Avx512, Isa::Avx512Vnni),
    [](testing::TestParamInfo<Isa> const& info) { return std::string(isa_name(info.param)); });

// Odd row counts (not multiples of the eight-row or granule steps), rows of one block and
// of many, and weights at every byte offset up to 7: GGUF's general.alignment may be 1.
TEST_P(NewTypeVariants, BitIdenticalToTheReference)
{
    for (auto const& type : new_types) {
        Kernel variant = nullptr;
        for (auto const& v : type.variants())
            if (v.isa == GetParam())
                variant = v.function;
        ASSERT_NE(variant, nullptr) << type.name;
        u64 values = block_values(type.ggml);
        for (i32 n : { i32(values), i32(2 * values), i32(5 * values), 2048 }) {
            Input in(n, u32(n * 3 + 1));
            for (i32 d : { 1, 3, 8, 9, 17 })
                for (size_t skew : { 0, 1, 3, 7 }) {
                    auto data = random_blocks(type.ggml, size_t(n / i32(values) * d), u32(n * 7 + d + i32(skew)), skew);
                    const u8* blocks = data.data() + skew;
                    std::vector<float> expected(static_cast<size_t>(d)), actual(static_cast<size_t>(d));
                    type.reference(expected.data(), in.q.data(), in.s.data(), in.sums.data(), blocks, n, d);
                    variant(actual.data(), in.q.data(), in.s.data(), in.sums.data(), blocks, n, d);
                    ASSERT_EQ(actual, expected) << type.name << " " << isa_name(GetParam()) << " n=" << n << " d=" << d << " skew " << skew;
                }
        }
    }
}

// The row kernels on the integer units (low_bit_rows.h) at the sizes where their paths
// part: rows of one to nine 32-value blocks and more (eight at a time, then the rest one
// by one), one or several super-blocks, row counts that are no multiple of anything, and
// weights at odd byte offsets; every f16 scale mostly small, but every seventh block's
// special (negative, subnormal, the largest half, infinity). Compared bit for bit: the
// infinite scales make NaN, which is never equal to itself.
TEST_P(NewTypeVariants, RowKernelsAtAwkwardSizesAndScales)
{
    const u16 special_scales[] = { 0x8C00 /* -2^-12 */, 0x0001 /* smallest subnormal */, 0x03FF /* largest subnormal */,
        0x7BFF /* 65504 */, 0x7C00 /* infinity */ };
    for (auto const& type : new_types) {
        Kernel variant = nullptr;
        for (auto const& v : type.variants())
            if (v.isa == GetParam())
                variant = v.function;
        ASSERT_NE(variant, nullptr) << type.name;
        u64 values = block_values(type.ggml);
        size_t bytes = size_t(block_bytes(type.ggml));
        // Where each layout keeps its f16 scales.
        std::vector<size_t> scale_at = type.ggml == tools::q3_k ? std::vector<size_t> { 108 }
            : type.ggml == tools::q2_k                          ? std::vector<size_t> { 80, 82 }
            : type.ggml == tools::q5_0                          ? std::vector<size_t> { 0 }
                                                                : std::vector<size_t> { 0, 2 };
        std::vector<i32> columns = values == 32 ? std::vector<i32> { 32, 224, 256, 288, 544, 1056 } : std::vector<i32> { 256, 768, 2304, 8448 };
        if (type.ggml == tools::q2_k)
            columns.push_back(16640); // past the 64 super-blocks Q2_K's row kernels keep the input's sums for
        for (i32 n : columns) {
            Input in(n, u32(n * 5 + 3));
            for (i32 d : { 1, 2, 3, 5, 7, 9, 13 })
                for (size_t skew : { 0, 1, 3 }) {
                    size_t blocks = size_t(n / i32(values) * d);
                    auto data = random_blocks(type.ggml, blocks, u32(n * 13 + d * 7) + u32(skew), skew);
                    u8* first = data.data() + skew;
                    for (size_t b = 0; b < blocks; ++b)
                        for (size_t at : scale_at) {
                            u16 half = b % 7 == 3 ? special_scales[(b / 7) % 5] : u16(0x2000 | (first[b * bytes + at] & 0x3FF));
                            first[b * bytes + at] = u8(half), first[b * bytes + at + 1] = u8(half >> 8);
                        }
                    std::vector<float> expected(static_cast<size_t>(d)), actual(static_cast<size_t>(d));
                    type.reference(expected.data(), in.q.data(), in.s.data(), in.sums.data(), first, n, d);
                    variant(actual.data(), in.q.data(), in.s.data(), in.sums.data(), first, n, d);
                    ASSERT_EQ(std::memcmp(actual.data(), expected.data(), actual.size() * sizeof(float)), 0)
                        << type.name << " " << isa_name(GetParam()) << " n=" << n << " d=" << d << " skew " << skew << ": " << actual[0]
                        << " vs " << expected[0];
                }
        }
    }
}

// The integer scheme equals the dequantised weights' dot product with the dequantised
// input, up to float rounding: the block layouts are read the same way by both paths.
TEST(QuantTypes, ProductsMatchDequantisedWeights)
{
    for (auto const& type : new_types) {
        const i32 n = 768, rows = 5;
        u64 values = block_values(type.ggml);
        Input in(n, 11);
        auto data = random_blocks(type.ggml, size_t(n / i32(values) * rows), 5);
        std::vector<float> out(rows);
        type.reference(out.data(), in.q.data(), in.s.data(), in.sums.data(), data.data(), n, rows);
        std::vector<float> w(static_cast<size_t>(values));
        for (i32 row = 0; row < rows; ++row) {
            double expected = 0, magnitude = 0;
            for (i32 b = 0; b < n / i32(values); ++b) {
                type.dequantize(data.data() + size_t(row * n / i32(values) + b) * block_bytes(type.ggml), w.data());
                for (i32 k = 0; k < i32(values); ++k) {
                    i32 i = b * i32(values) + k;
                    double term = double(w[size_t(k)]) * double(in.q[size_t(i)]) * double(in.s[size_t(i / 32)]);
                    expected += term;
                    magnitude += std::fabs(term);
                }
            }
            EXPECT_GT(magnitude, 1.0) << type.name;
            EXPECT_NEAR(out[size_t(row)], expected, 1e-5 * magnitude) << type.name << " row " << row;
        }
    }
}

// Hand-made blocks against the layouts as the GGUF readers of llama.cpp document them.
TEST(QuantTypes, DequantiseByTheGgmlLayouts)
{
    std::vector<float> out(256);
    std::vector<u8> q5_0(22, 0);
    q5_0[1] = 0x3C;            // d = 1
    q5_0[2] = 0x01;            // fifth bit of value 0
    q5_0[5] = 0x80;            // fifth bit of value 31
    q5_0[6] = 0x3F;            // value 0: nibble 15, value 16: nibble 3
    q5_0[21] = 0xA0;           // value 31: nibble 10
    llm::ops::dequantize_q5_0(q5_0.data(), out.data());
    EXPECT_EQ(out[0], float(31 - 16));
    EXPECT_EQ(out[16], float(3 - 16));
    EXPECT_EQ(out[31], float(26 - 16));
    EXPECT_EQ(out[1], -16.0f);

    std::vector<u8> q5_1(24, 0);
    q5_1[1] = 0x40;            // d = 2
    q5_1[3] = 0xBC;            // m = -1
    q5_1[6] = 0x01;            // fifth bit of value 16
    q5_1[8] = 0x25;            // value 0: 5, value 16: 2 + 16
    llm::ops::dequantize_q5_1(q5_1.data(), out.data());
    EXPECT_EQ(out[0], 2.0f * 5 - 1);
    EXPECT_EQ(out[16], 2.0f * 18 - 1);
    EXPECT_EQ(out[1], -1.0f);

    std::vector<u8> q4_1(20, 0);
    q4_1[1] = 0x40;            // d = 2
    q4_1[3] = 0xBC;            // m = -1
    q4_1[4] = 0x5A;            // value 0: 10, value 16: 5
    q4_1[19] = 0xF0;           // value 31: 15
    llm::ops::dequantize_q4_1(q4_1.data(), out.data());
    EXPECT_EQ(out[0], 2.0f * 10 - 1);
    EXPECT_EQ(out[16], 2.0f * 5 - 1);
    EXPECT_EQ(out[31], 2.0f * 15 - 1);
    EXPECT_EQ(out[1], -1.0f);

    std::vector<u8> q5_k(176, 0);
    q5_k[1] = 0x3C;            // d = 1
    q5_k[3] = 0x38;            // dmin = 0.5
    q5_k[4 + 1] = 3;           // sub-block 1: scale 3
    q5_k[4 + 5] = 2;           // sub-block 1: min 2
    q5_k[4 + 10] = 0x14;       // sub-block 6: scale 4, min 1
    q5_k[16 + 0] = 0x02 | 0x40; // fifth bits: value 32 (sub-block 1), value 192 (sub-block 6)
    q5_k[48 + 0] = 0x70;       // value 32: high nibble 7
    q5_k[48 + 96] = 0x09;      // value 192: low nibble 9
    llm::ops::dequantize_q5_k(q5_k.data(), out.data());
    EXPECT_EQ(out[32], 3.0f * (7 + 16) - 0.5f * 2);
    EXPECT_EQ(out[33], -1.0f);
    EXPECT_EQ(out[192], 4.0f * (9 + 16) - 0.5f * 1);

    std::vector<u8> q3_k(110, 0);
    q3_k[109] = 0x3C;          // d = 1
    u8* scales = q3_k.data() + 96;
    scales[0] = 0x05;          // scale 0: low bits 5 (scale 8's low bits 0, in the high nibble)
    scales[8] = 0x32;          // scale 0: top bits 2 (37 - 32 = 5); scale 8: top bits 3 (48 - 32 = 16)
    scales[9] = 0xC0;          // scale 13: top bits 3 (16); scale 1: all bits 0 (-32)
    q3_k[32] = 0x03;           // value 0: low bits 3 ...
    q3_k[0] = 0x01;            // ... and its high bit set: q = 3
    q3_k[64 + 16] = 0x20;      // value 208 (half 1, group 2, l = 16): low bits 2 at bits 4..5 ...
    q3_k[16] = 0x40;           // ... high bit 4 * 1 + 2 = 6 set: q = 2
    llm::ops::dequantize_q3_k(q3_k.data(), out.data());
    EXPECT_EQ(out[0], 5.0f * 3);
    EXPECT_EQ(out[1], 5.0f * -4);    // no bits: q = -4
    EXPECT_EQ(out[16], -32.0f * -4); // sub-block 1
    EXPECT_EQ(out[128], 16.0f * -4); // sub-block 8 (value 0 of half 1: hmask bit 4 clear)
    EXPECT_EQ(out[208], 16.0f * 2);  // sub-block 13

    std::vector<u8> q2_k(84, 0);
    q2_k[81] = 0x3C;           // d = 1
    q2_k[83] = 0x38;           // dmin = 0.5
    q2_k[0] = 0x35;            // sub-block 0: scale 5, min 3
    q2_k[13] = 0x72;           // sub-block 13: scale 2, min 7
    q2_k[16] = 0x03 | 0x80;    // value 0 (half 0, group 0): 3; value 96 (group 3, l = 0): 2
    q2_k[16 + 32 + 16] = 0x10; // value 208 (half 1, group 2, l = 16): 1
    llm::ops::dequantize_q2_k(q2_k.data(), out.data());
    EXPECT_EQ(out[0], 5.0f * 3 - 0.5f * 3);
    EXPECT_EQ(out[1], -0.5f * 3);    // q = 0: the min alone
    EXPECT_EQ(out[96], 0.0f);        // sub-block 6: scale and min 0, whatever q (2)
    EXPECT_EQ(out[208], 2.0f * 1 - 0.5f * 7);
    EXPECT_EQ(out[209], -0.5f * 7);
}

// The writer's quantisers: each value comes back within half a quantisation step of its
// block (plus the f16 rounding of the scales), for every type the tests write.
TEST(QuantTypes, QuantiseDequantiseRoundTrip)
{
    struct Case {
        u32 ggml;
        double bound; // max |error| / max |x| of the row
    };
    // Steps: Q5_0 max/16, Q5_1 range/31, Q4_0 max/8, Q8_0 max/127 (whose scale is rounded
    // to f16 after the values are: a little more); the k-quants lose a little more to
    // their 6-bit (Q6_K: 8-bit) sub-block scales. F16 and BF16 round each value to 11 and 8
    // significant bits (half an ulp: 2^-11 and 2^-8 of a value at most). IQ4_NL's widest
    // step is at its top, from 113 to the extreme's 127 (of the other sign); IQ4_XS rounds
    // each group's step to a multiple of the super-block's, a little more.
    for (auto [ggml, bound] : { Case { tools::q5_0, 1.0 / 32 }, Case { tools::q5_1, 2.0 / 62 }, Case { tools::q4_1, 2.0 / 30 }, Case { tools::q4_0, 1.0 / 16 },
             Case { tools::q8_0, 0.6 / 127 }, Case { tools::q5_k, 0.045 }, Case { tools::q4_k, 0.09 }, Case { tools::q3_k, 0.2 },
             Case { tools::q2_k, 0.4 },
             Case { tools::q6_k, 0.02 }, Case { tools::f16, 1.0 / 2048 }, Case { tools::bf16, 1.0 / 256 },
             Case { tools::iq4_nl, 14.0 / 127 }, Case { tools::iq4_xs, 16.0 / 127 } }) {
        const u64 n = 1024;
        for (u32 seed : { 1u, 2u, 3u }) {
            auto x = random_floats(n, seed, 0.5f);
            for (u64 i = 0; i < n; i += 97)
                x[i] *= 3.0f; // a few outliers, as real weights have
            auto bytes = tools::quantize_blocks(ggml, x.data(), n);
            ASSERT_EQ(bytes.size(), n / block_values(ggml) * block_bytes(ggml)) << llm::gguf::tensor_type_name(ggml);
            llm::TensorType type;
            ASSERT_TRUE(llm::gguf::tensor_type_of(llm::gguf::TensorType(ggml), type));
            llm::Tensor t { type, 1, i32(n), bytes.data() };
            std::vector<float> back(n);
            llm::dequantize_row(t, 0, back.data());
            double largest = 0, worst = 0, squares = 0, error_squares = 0;
            for (u64 i = 0; i < n; ++i) {
                largest = std::max(largest, std::fabs(double(x[i])));
                worst = std::max(worst, std::fabs(double(back[i]) - double(x[i])));
                squares += double(x[i]) * x[i];
                error_squares += (double(back[i]) - x[i]) * (double(back[i]) - x[i]);
            }
            // Whole rows are compared with the row's largest value: sub-block scales can only
            // make the error smaller than the block-wide step.
            EXPECT_LE(worst, bound * largest * 1.01) << llm::gguf::tensor_type_name(ggml) << " seed " << seed;
            EXPECT_GT(error_squares, 0.0) << llm::gguf::tensor_type_name(ggml); // it did quantise
            // Rounding errors spread over the step (mean square step^2 / 12 for uniform
            // data, with step = 2 * bound * largest): well under the worst case on average.
            EXPECT_LT(error_squares / double(n), bound * bound * largest * largest / 2) << llm::gguf::tensor_type_name(ggml);
            EXPECT_LT(error_squares, squares) << llm::gguf::tensor_type_name(ggml);
        }
    }
}

// ---------------------------------------------------------------- whole models

std::string message(rt::Error const& error) { return std::string(error.message().data(), error.message().length()); }

// A small llama with random float weights, rows 256 wide (one k-quant super-block) and
// 512 (two): its matrices written in the types `mix` gives them (norms stay F32).
struct Shape {
    u64 dim = 256, hidden = 512, layers = 3, heads = 4, vocab = 64;
    u32 seed = 99;
};

std::vector<u8> random_llama(tools::QuantMix const& mix, std::map<std::string, int>* type_counts = nullptr, Shape shape = {})
{
    tools::GgufWriter b;
    b.kv_string("general.architecture", "llama");
    for (auto [key, value] : std::vector<std::pair<std::string, u64>> { { "llama.embedding_length", shape.dim },
             { "llama.feed_forward_length", shape.hidden }, { "llama.block_count", shape.layers },
             { "llama.attention.head_count", shape.heads }, { "llama.context_length", 32 } })
        b.kv_u32(key, u32(value));
    struct Entry {
        std::string name, kind;
        u64 columns, rows, layer;
    };
    std::vector<Entry> tensors { { "token_embd.weight", "token_embd", shape.dim, shape.vocab, 0 },
        { "output_norm.weight", "", shape.dim, 1, 0 }, { "output.weight", "output", shape.dim, shape.vocab, 0 } };
    for (u64 l = 0; l < shape.layers; ++l) {
        std::string p = "blk." + std::to_string(l) + ".";
        for (auto [kind, columns, rows] : std::vector<std::tuple<std::string, u64, u64>> { { "attn_norm", shape.dim, 1 },
                 { "ffn_norm", shape.dim, 1 }, { "attn_q", shape.dim, shape.dim }, { "attn_k", shape.dim, shape.dim },
                 { "attn_v", shape.dim, shape.dim }, { "attn_output", shape.dim, shape.dim }, { "ffn_gate", shape.dim, shape.hidden },
                 { "ffn_down", shape.hidden, shape.dim }, { "ffn_up", shape.dim, shape.hidden } })
            tensors.push_back({ p + kind + ".weight", rows == 1 ? "" : kind, columns, rows, l });
    }
    std::vector<std::vector<u8>> blobs;
    u64 offset = 0;
    u32 seed = shape.seed;
    for (auto const& t : tensors) {
        bool norm = t.kind.empty();
        // Weights ~ 1/sqrt(columns), so activations keep their size through the layers.
        auto values = random_floats(t.columns * t.rows, seed++, norm ? 0.1f : 1.7f / std::sqrt(float(t.columns)));
        if (norm)
            for (auto& v : values)
                v += 1.0f;
        u32 type = norm ? u32(tools::f32) : tools::tensor_type(mix, t.kind, t.layer, shape.layers, t.columns);
        auto blob = tools::quantize_blocks(type, values.data(), values.size());
        EXPECT_FALSE(blob.empty()) << t.name;
        b.tensor_info(t.name, norm ? std::vector<u64> { t.columns } : std::vector<u64> { t.columns, t.rows }, type, offset);
        offset += tools::GgufWriter::padded(blob.size());
        blobs.push_back(std::move(blob));
        if (type_counts)
            ++(*type_counts)[llm::gguf::tensor_type_name(type)];
    }
    auto file = b.file_start();
    for (auto const& blob : blobs) {
        file.insert(file.end(), blob.begin(), blob.end());
        file.resize(size_t(tools::GgufWriter::padded(file.size())), 0);
    }
    return file;
}

// The logits of a few positions (tokens 1, 7, 3, 12 ...), all concatenated.
std::vector<float> logits_of(std::vector<u8> const& bytes)
{
    auto file = llm::gguf::File::parse({ bytes.data(), bytes.size() });
    EXPECT_FALSE(file.is_error()) << (file.is_error() ? message(file.error()) : "");
    if (file.is_error())
        return {};
    auto checkpoint = llm::load_gguf_checkpoint(file.value());
    EXPECT_FALSE(checkpoint.is_error()) << (checkpoint.is_error() ? message(checkpoint.error()) : "");
    if (checkpoint.is_error())
        return {};
    auto transformer = llm::Transformer::create(checkpoint.value()).release_value();
    std::vector<float> all;
    i32 vocab = checkpoint.value().config.vocab_size;
    i32 tokens[] = { 1, 7, 3, 12, 40, 5 };
    for (i32 position = 0; position < 6; ++position) {
        float* logits = transformer.forward(tokens[position], position);
        all.insert(all.end(), logits, logits + vocab);
    }
    return all;
}

double relative_error(std::vector<float> const& a, std::vector<float> const& b)
{
    double difference = 0, size = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        difference += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
        size += double(b[i]) * b[i];
    }
    return std::sqrt(difference / size);
}

// Every new type, pure and in llama-quantize's mixes, computes what the float model
// computes, within its quantisation error (fewer bits, larger error), and a model of
// random bytes would not (the comparison can fail).
TEST(QuantTypes, ModelsInEachTypeFollowTheFloatModel)
{
    testing_support::ScopedHeap heap(64 << 20);
    auto reference = logits_of(random_llama(*tools::find_quant_mix("f32")));
    ASSERT_FALSE(reference.empty());
    struct Case {
        const char* mix;
        double bound;
    };
    std::map<std::string, double> errors;
    // A random model has no peaked logits and compounds every matrix's error over three
    // layers (the input's int8 quantisation alone costs Q8_0's share): the bounds are
    // about 1.4 times what these weights give, and far below the distance to another
    // float model (checked last).
    for (auto [name, bound] : { Case { "q8_0", 0.045 }, Case { "q5_0", 0.18 }, Case { "q5_1", 0.18 }, Case { "q4_1", 0.35 }, Case { "q5_k", 0.18 },
             Case { "q5_k_m", 0.18 }, Case { "q4_k_m", 0.33 }, Case { "q3_k", 0.65 }, Case { "q3_k_m", 0.55 }, Case { "q2_k", 1.0 } }) {
        std::map<std::string, int> counts;
        auto logits = logits_of(random_llama(*tools::find_quant_mix(name), &counts));
        ASSERT_EQ(logits.size(), reference.size()) << name;
        errors[name] = relative_error(logits, reference);
        EXPECT_LT(errors[name], bound) << name;
        EXPECT_GT(errors[name], 0.0) << name << ": quantised weights cannot compute the float model exactly";
    }
    // More bits, less error: the ordering llama.cpp's names promise.
    EXPECT_LT(errors["q8_0"], errors["q5_k"]);
    EXPECT_LT(errors["q5_k_m"], errors["q4_k_m"]);
    EXPECT_LT(errors["q4_k_m"], errors["q3_k_m"]);
    EXPECT_LE(errors["q3_k_m"], errors["q3_k"]);
    EXPECT_LT(errors["q3_k"], errors["q2_k"]);
    // A float model with other weights is far away: the bounds above are not met by chance.
    Shape other;
    other.seed = 7;
    double distance = relative_error(logits_of(random_llama(*tools::find_quant_mix("f32"), nullptr, other)), reference);
    EXPECT_GT(distance, 1.0);
    printf("[quant] another float model: relative distance %.4f\n", distance);
    for (auto const& [name, error] : errors)
        printf("[quant] %-7s logits' relative error %.4f\n", name.c_str(), error);
}

// The mixes put the types where llama-quantize's Q5_K_M and Q3_K_M files have them.
TEST(QuantTypes, MixesFollowLlamaQuantize)
{
    auto const& q5_k_m = *tools::find_quant_mix("q5_k_m");
    auto const& q3_k_m = *tools::find_quant_mix("q3_k_m");
    const u64 layers = 22; // TinyLlama
    EXPECT_EQ(tools::tensor_type(q5_k_m, "output", 0, layers, 2048), u32(tools::q6_k));
    EXPECT_EQ(tools::tensor_type(q5_k_m, "attn_q", 5, layers, 2048), u32(tools::q5_k));
    EXPECT_EQ(tools::tensor_type(q5_k_m, "attn_v", 0, layers, 2048), u32(tools::q6_k));  // first eighth
    EXPECT_EQ(tools::tensor_type(q5_k_m, "attn_v", 3, layers, 2048), u32(tools::q5_k));
    EXPECT_EQ(tools::tensor_type(q5_k_m, "ffn_down", 4, layers, 5632), u32(tools::q6_k)); // every third after the first eighth
    EXPECT_EQ(tools::tensor_type(q5_k_m, "ffn_down", 21, layers, 5632), u32(tools::q6_k)); // last eighth
    EXPECT_EQ(tools::tensor_type(q3_k_m, "attn_q", 5, layers, 2048), u32(tools::q3_k));
    EXPECT_EQ(tools::tensor_type(q3_k_m, "attn_v", 1, layers, 2048), u32(tools::q5_k));
    EXPECT_EQ(tools::tensor_type(q3_k_m, "attn_v", 2, layers, 2048), u32(tools::q4_k));
    EXPECT_EQ(tools::tensor_type(q3_k_m, "attn_output", 9, layers, 2048), u32(tools::q4_k));
    EXPECT_EQ(tools::tensor_type(q3_k_m, "ffn_down", 0, layers, 5632), u32(tools::q5_k));
    EXPECT_EQ(tools::tensor_type(q3_k_m, "ffn_down", 9, layers, 5632), u32(tools::q4_k));
    EXPECT_EQ(tools::tensor_type(q3_k_m, "output", 0, layers, 2048), u32(tools::q6_k));
    // Rows of 64 (stories260K): the k-quants fall back to 32-value blocks.
    EXPECT_EQ(tools::tensor_type(*tools::find_quant_mix("q4_k_m"), "attn_q", 0, 5, 64), u32(tools::q5_0));
    EXPECT_EQ(tools::tensor_type(q5_k_m, "attn_q", 0, 5, 64), u32(tools::q5_1));
    EXPECT_EQ(tools::tensor_type(q5_k_m, "output", 0, 5, 64), u32(tools::q8_0));

    // And a model in each mix loads with the tensors of those types.
    testing_support::ScopedHeap heap(64 << 20);
    std::map<std::string, int> counts;
    auto bytes = random_llama(q3_k_m, &counts);
    EXPECT_EQ(counts["Q3_K"], 1 + 4 * 3);        // token_embd, and q, k, gate and up of each layer
    EXPECT_EQ(counts["Q5_K"], 2);                // attn_v of layers 0 and 1
    EXPECT_EQ(counts["Q4_K"], 1 + 3 + 3);        // attn_v of layer 2, attn_output and ffn_down of each layer
    EXPECT_EQ(counts["Q6_K"], 1);                // output
    EXPECT_FALSE(logits_of(bytes).empty());
}

// ---------------------------------------------------------------- header checks

std::string parse_error(std::vector<u8> const& bytes)
{
    auto file = llm::gguf::File::parse({ bytes.data(), bytes.size() });
    return file.is_error() ? message(file.error()) : "";
}

std::vector<u8> one_tensor(std::vector<u64> const& dims, u32 type, size_t data_bytes)
{
    tools::GgufWriter b;
    b.tensor_info("x", dims, type, 0);
    auto bytes = b.file_start();
    bytes.resize(bytes.size() + data_bytes, 0);
    return bytes;
}

TEST(QuantTypes, HeadersOfTheNewTypesAreChecked)
{
    testing_support::ScopedHeap heap(1 << 20);
    for (auto const& type : new_types) {
        u64 values = block_values(type.ggml), bytes = block_bytes(type.ggml);
        EXPECT_EQ(parse_error(one_tensor({ values * 2, 3 }, type.ggml, size_t(6 * bytes))), "") << type.name;
        // Rows that are not whole blocks.
        auto ragged = parse_error(one_tensor({ values + 16, 3 }, type.ggml, size_t(12 * bytes)));
        EXPECT_NE(ragged.find(std::string("does not fit ") + type.name + " blocks of " + std::to_string(values)), std::string::npos)
            << type.name << ": " << ragged;
        // Data one byte short of the blocks the shape needs.
        auto short_data = parse_error(one_tensor({ values * 2, 3 }, type.ggml, size_t(6 * bytes - 1)));
        EXPECT_NE(short_data.find("lies outside"), std::string::npos) << type.name << ": " << short_data;
    }
    // Types BareFlow still does not read are refused by name.
    EXPECT_NE(parse_error(one_tensor({ 256 }, 16, 66)).find("type 16 (IQ2_XXS), which BareFlow cannot read"), std::string::npos);
    EXPECT_NE(parse_error(one_tensor({ 32 }, 39, 17)).find("type 39 (MXFP4), which BareFlow cannot read"), std::string::npos);
}

}
