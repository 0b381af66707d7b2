// Every SIMD variant against the scalar reference, on random data and awkward sizes
// (odd, below and just above the vector widths). Each test runs once per instruction set
// (Kernels/VariantsOf.X/sse2, /avx2, /avx512); on a CPU without one, its runs are reported
// as skipped, naming what the CPU lacks, rather than passing without checking anything.
#include "../../app/llm/interleave.h"
#include "../../app/llm/kernels/kernels.h"
#include "../../app/llm/kernels/tuner.h"
#include "../../app/llm/ops.h"
#include "../../app/llm/tensor.h"
#include "random_data.h"
#include <algorithm>
#include <cmath>
#include <cstring>
#include <gtest/gtest.h>
#include <limits>
#include <rt/cpu_features.h>
#include <vector>

namespace {

rt::CpuFeatures const& cpu()
{
    static rt::CpuFeatures features = rt::detect_cpu_features();
    return features;
}

using llm::kernels::Isa;

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

// What can_run() needs for each instruction set, for the skip message.
const char* isa_requirement(Isa isa)
{
    switch (isa) {
    case Isa::Sse2: return "SSE2";
    case Isa::Avx2Tcg:
    case Isa::Avx2: return "AVX2, FMA and F16C (with the OS saving AVX state)";
    case Isa::AvxVnni: return "AVX2, FMA, F16C and AVX-VNNI";
    case Isa::Avx512: return "AVX-512 F and BW, and F16C";
    case Isa::Avx512Vnni: return "AVX-512 F, BW, VL and VNNI, and F16C";
    default: return "nothing";
    }
}

class VariantsOf : public testing::TestWithParam<Isa> {
protected:
    void SetUp() override
    {
        if (!llm::kernels::can_run(GetParam(), cpu()))
            GTEST_SKIP() << isa_name(GetParam()) << " variants not checked: this CPU lacks " << isa_requirement(GetParam());
    }

    // The variant of this run's instruction set in a table (every table has one per set).
    template<typename Function>
    static llm::kernels::Variant<Function> const& of_this_isa(rt::Span<const llm::kernels::Variant<Function>> table)
    {
        for (auto const& variant : table)
            if (variant.isa == GetParam())
                return variant;
        ADD_FAILURE() << "no " << isa_name(GetParam()) << " variant";
        return table[0];
    }
};

INSTANTIATE_TEST_SUITE_P(Kernels, VariantsOf, testing::Values(Isa::Sse2, Isa::Avx2Tcg, Isa::Avx2, Isa::AvxVnni, Isa::Avx512, Isa::Avx512Vnni),
    [](testing::TestParamInfo<Isa> const& info) { return std::string(isa_name(info.param)); });

const i32 sizes[] = { 1, 3, 4, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 172, 257, 288 };

// Bit for bit: a float variant that differs from the reference in the last bit can change
// a greedy story, so every variant must give the same bits (fp32_order.h).
::testing::AssertionResult same_bits(const float* actual, const float* expected, i32 count)
{
    for (i32 i = 0; i < count; ++i)
        if (__builtin_bit_cast(u32, actual[i]) != __builtin_bit_cast(u32, expected[i]))
            return ::testing::AssertionFailure() << "element " << i << ": " << actual[i] << " (0x" << std::hex
                                                 << __builtin_bit_cast(u32, actual[i]) << "), reference " << expected[i] << " (0x"
                                                 << __builtin_bit_cast(u32, expected[i]) << std::dec << ")";
    return ::testing::AssertionSuccess();
}

TEST_P(VariantsOf, MatmulIsBitIdentical)
{
    auto const& variant = of_this_isa(llm::kernels::matmul_variants());
    for (i32 n : sizes)
        for (i32 d : { 1, 3, 4, 5, 8, 13, 17 })
            for (i32 offset : { 0, 7 }) { // 7 floats: the 28-byte offset of llama2.c weights
                auto storage = random_floats(size_t(n * d + offset), u32(n * 31 + d)), x = random_floats(size_t(n), u32(n + 7));
                const float* w = storage.data() + offset;
                std::vector<float> expected(static_cast<size_t>(d)), actual(static_cast<size_t>(d));
                llm::ops::matmul(expected.data(), x.data(), w, n, d);
                variant.function(actual.data(), x.data(), w, n, d);
                ASSERT_TRUE(same_bits(actual.data(), expected.data(), d)) << variant.name << " n=" << n << " d=" << d << " offset " << offset;
            }
}

// Random 16-bit floats of every kind (subnormals, zeros of both signs, large values) but
// infinities and NaNs, whose products would make every sum NaN: a pattern whose exponent
// bits (`exponent_mask`) are all set loses the top one. IEEE halves: 0x7C00; bfloat16:
// 0x7F80.
std::vector<u8> random_sixteen_bit(size_t count, u32 seed, u16 exponent_mask)
{
    std::vector<u8> bytes(count * 2);
    for (size_t i = 0; i < count; ++i) {
        seed = seed * 1664525u + 1013904223u;
        u16 h = u16(seed >> 16);
        if ((h & exponent_mask) == exponent_mask)
            h = u16(h & ~0x4000);
        bytes[2 * i] = u8(h);
        bytes[2 * i + 1] = u8(h >> 8);
    }
    return bytes;
}
std::vector<u8> random_halves(size_t count, u32 seed) { return random_sixteen_bit(count, seed, 0x7C00); }

TEST_P(VariantsOf, F16MatmulIsBitIdentical)
{
    auto const& variant = of_this_isa(llm::kernels::gguf_f16_variants());
    for (i32 n : sizes)
        for (i32 d : { 1, 3, 8, 13 }) {
            auto halves = random_halves(size_t(n * d), u32(n * 17 + d));
            auto x = random_floats(size_t(n), u32(n + 3), 1e-3f);
            std::vector<float> expected(static_cast<size_t>(d)), actual(static_cast<size_t>(d));
            llm::ops::matmul_f16(expected.data(), x.data(), halves.data(), n, d);
            variant.function(actual.data(), x.data(), halves.data(), n, d);
            ASSERT_TRUE(same_bits(actual.data(), expected.data(), d)) << variant.name << " n=" << n << " d=" << d;
        }
}

// Every half, one by one (a row of 16 with a single 1.0 picks one weight out), including
// subnormals, infinities and quiet NaNs.
TEST_P(VariantsOf, F16ConversionIsExactForEveryHalf)
{
    auto const& variant = of_this_isa(llm::kernels::gguf_f16_variants());
    std::vector<float> x(16, 0.0f);
    x[5] = 1.0f;
    for (u32 h = 0; h < 0x10000; ++h) {
        bool nan = (h & 0x7C00) == 0x7C00 && (h & 0x3FF);
        if (nan && !(h & 0x200))
            continue; // signalling NaNs: F16C quiets them, and a NaN weight is an error anyway
        std::vector<u8> row(32, 0);
        row[10] = u8(h);
        row[11] = u8(h >> 8);
        float expected, actual;
        x[5] = 1.0f;
        llm::ops::matmul_f16(&expected, x.data(), row.data(), 16, 1);
        variant.function(&actual, x.data(), row.data(), 16, 1);
        if (nan)
            ASSERT_TRUE(std::isnan(actual)) << std::hex << h;
        else
            ASSERT_TRUE(same_bits(&actual, &expected, 1)) << variant.name << std::hex << " half 0x" << h;
    }
}

// bfloat16 rows starting at 2-byte offsets, as rows of an odd length do in a GGUF tensor.
TEST_P(VariantsOf, Bf16MatmulIsBitIdentical)
{
    auto const& variant = of_this_isa(llm::kernels::gguf_bf16_variants());
    for (i32 n : sizes)
        for (i32 d : { 1, 3, 8, 13 })
            for (size_t offset : { 0, 1, 3 }) {
                auto values = random_sixteen_bit(size_t(n * d) + offset, u32(n * 17 + d), 0x7F80);
                auto x = random_floats(size_t(n), u32(n + 3), 1e-3f);
                std::vector<float> expected(static_cast<size_t>(d)), actual(static_cast<size_t>(d));
                const u8* rows = values.data() + 2 * offset;
                llm::ops::matmul_bf16(expected.data(), x.data(), rows, n, d);
                variant.function(actual.data(), x.data(), rows, n, d);
                ASSERT_TRUE(same_bits(actual.data(), expected.data(), d)) << variant.name << " n=" << n << " d=" << d << " offset " << offset;
            }
}

// Every bfloat16, one by one, as F16ConversionIsExactForEveryHalf: the float with those
// upper bits (infinities too; NaNs stay NaNs).
TEST_P(VariantsOf, Bf16ConversionIsExactForEveryValue)
{
    auto const& variant = of_this_isa(llm::kernels::gguf_bf16_variants());
    std::vector<float> x(16, 0.0f);
    x[5] = 1.0f;
    for (u32 b = 0; b < 0x10000; ++b) {
        std::vector<u8> row(32, 0);
        row[10] = u8(b);
        row[11] = u8(b >> 8);
        float expected, actual;
        llm::ops::matmul_bf16(&expected, x.data(), row.data(), 16, 1);
        variant.function(&actual, x.data(), row.data(), 16, 1);
        u32 bits = b << 16;
        if ((bits & 0x7F800000u) == 0x7F800000u && (bits & 0x7FFFFFu)) {
            ASSERT_TRUE(std::isnan(actual) && std::isnan(expected)) << std::hex << b;
            continue;
        }
        ASSERT_TRUE(same_bits(&actual, &expected, 1)) << variant.name << std::hex << " bfloat16 0x" << b;
        // The weight alone: a sum of it and zeros (-0 becomes +0 there).
        float weight = __builtin_bit_cast(float, bits) + 0.0f;
        ASSERT_TRUE(same_bits(&expected, &weight, 1)) << std::hex << " bfloat16 0x" << b;
    }
}

TEST_P(VariantsOf, Int8MatmulIsBitIdentical)
{
    auto const& variant = of_this_isa(llm::kernels::matmul_q8_variants());
    // n = 288 and 800 with groups of 32: runs of eight groups and a tail (int8_rows.h);
    // 16416: past the input group sums the VNNI rows keep on the stack.
    for (i32 group : { 8, 16, 32, 64 })
        for (i32 n : { 64, 128, 172, 288, 800, 16416 })
            for (i32 d : { 1, 5, 16 }) {
                auto w = random_floats(size_t(n * d), u32(n + d + group)), x = random_floats(size_t(n), u32(n * 3));
                std::vector<i8> wq(static_cast<size_t>(n * d)), xq(static_cast<size_t>(n));
                std::vector<float> ws(static_cast<size_t>(n * d / group + 1)), xs(static_cast<size_t>(n / group + 1));
                llm::ops::quantize(wq.data(), ws.data(), w.data(), n * d, group);
                llm::ops::quantize(xq.data(), xs.data(), x.data(), n, group);
                std::vector<float> expected(static_cast<size_t>(d)), actual(static_cast<size_t>(d));
                llm::ops::matmul_q8(expected.data(), xq.data(), xs.data(), wq.data(), ws.data(), n, d, group);
                variant.function(actual.data(), xq.data(), xs.data(), wq.data(), ws.data(), n, d, group);
                ASSERT_EQ(actual, expected) << variant.name << " group=" << group << " n=" << n << " d=" << d;
            }
}

TEST_P(VariantsOf, GgufBlocksAreBitIdentical)
{
    auto const& q8_0 = of_this_isa(llm::kernels::gguf_q8_0_variants());
    auto const& q4_0 = of_this_isa(llm::kernels::gguf_q4_0_variants());
    for (i32 n : { 32, 64, 288 })
        for (i32 d : { 1, 3, 9 }) {
            auto x = random_floats(size_t(n), u32(n + d));
            std::vector<i8> xq(static_cast<size_t>(n));
            std::vector<float> xs(static_cast<size_t>(n / 32));
            llm::ops::quantize(xq.data(), xs.data(), x.data(), n, 32);
            std::vector<u8> q8(size_t(n / 32 * d) * 34), q4(size_t(n / 32 * d) * 18);
            u32 seed = u32(n * 7 + d);
            for (auto& b : q8)
                b = u8((seed = seed * 1664525u + 1013904223u) >> 24);
            for (auto& b : q4)
                b = u8((seed = seed * 1664525u + 1013904223u) >> 24);
            for (size_t at = 0; at < q8.size(); at += 34)
                q8[at + 1] = 0x20; // keep the f16 scales finite and small
            for (size_t at = 0; at < q4.size(); at += 18)
                q4[at + 1] = 0x20;
            std::vector<float> expected(static_cast<size_t>(d)), actual(static_cast<size_t>(d));
            llm::ops::matmul_q8_0(expected.data(), xq.data(), xs.data(), q8.data(), n, d);
            q8_0.function(actual.data(), xq.data(), xs.data(), q8.data(), n, d);
            ASSERT_EQ(actual, expected) << "Q8_0 " << q8_0.name << " n=" << n << " d=" << d;
            llm::ops::matmul_q4_0(expected.data(), xq.data(), xs.data(), q4.data(), n, d);
            q4_0.function(actual.data(), xq.data(), xs.data(), q4.data(), n, d);
            ASSERT_EQ(actual, expected) << "Q4_0 " << q4_0.name << " n=" << n << " d=" << d;
        }
}

TEST_P(VariantsOf, KQuantsMatchTheReferenceExactly)
{
    auto const& q4_k = of_this_isa(llm::kernels::gguf_q4_k_variants());
    auto const& q6_k = of_this_isa(llm::kernels::gguf_q6_k_variants());
    for (i32 d : { 1, 3, 9 }) {
        for (i32 n : { 256, 512, 5632 }) {
            auto x = random_floats(size_t(n), u32(n + d), 3.0f);
            std::vector<i8> xq(static_cast<size_t>(n));
            std::vector<float> xs(static_cast<size_t>(n / 32));
            std::vector<i32> xsums(static_cast<size_t>(n / 32));
            llm::ops::quantize(xq.data(), xs.data(), x.data(), n, 32);
            llm::ops::group_sums(xsums.data(), xq.data(), n, 32);
            for (bool q6 : { false, true }) {
                size_t block_bytes = q6 ? 210 : 144;
                std::vector<u8> blocks(size_t(n / 256 * d) * block_bytes);
                u32 seed = u32(d * 31 + n) + (q6 ? 7u : 0u);
                for (auto& b : blocks)
                    b = u8((seed = seed * 1664525u + 1013904223u) >> 24);
                for (size_t at = 0; at < blocks.size(); at += block_bytes) {
                    if (q6) {
                        blocks[at + 209] = 0x20; // f16 d: small and finite
                    } else {
                        blocks[at + 1] = 0x20, blocks[at + 3] = 0x20;
                    }
                }
                auto const& variant = q6 ? q6_k : q4_k;
                std::vector<float> expected(static_cast<size_t>(d)), actual(static_cast<size_t>(d));
                if (q6)
                    llm::ops::matmul_q6_k(expected.data(), xq.data(), xs.data(), xsums.data(), blocks.data(), n, d);
                else
                    llm::ops::matmul_q4_k(expected.data(), xq.data(), xs.data(), xsums.data(), blocks.data(), n, d);
                variant.function(actual.data(), xq.data(), xs.data(), xsums.data(), blocks.data(), n, d);
                ASSERT_EQ(actual, expected) << (q6 ? "Q6_K " : "Q4_K ") << variant.name << " n=" << n << " d=" << d;
            }
        }
    }
}

const u16 special_scales[] = { 0x8C00 /* -2^-12 */, 0x0001 /* smallest subnormal */, 0x03FF /* largest subnormal */,
    0x7BFF /* 65504 */, 0x7C00 /* infinity */ };

// `d` rows of `n` random values in blocks of `type`, starting `offset` bytes into the
// returned storage; the f16 scales mostly small and finite, every seventh block's special
// (negative, subnormal, the largest half or infinite: the SIMD kernels convert halves
// themselves).
std::vector<u8> awkward_blocks(llm::TensorType type, i32 n, i32 d, size_t offset)
{
    using llm::TensorType;
    size_t bytes = llm::block_bytes(type), values = llm::block_values(type);
    // Where each block keeps its f16 scales (Q4_K: d and dmin).
    std::vector<size_t> scale_at = type == TensorType::Q6_K ? std::vector<size_t> { 208 }
        : type == TensorType::Q4_K || type == TensorType::Q5_K ? std::vector<size_t> { 0, 2 }
                                                               : std::vector<size_t> { 0 };
    size_t blocks = size_t(n) / values * size_t(d);
    std::vector<u8> storage(blocks * bytes + offset);
    u32 seed = u32(n * 13 + d * 7) + u32(offset);
    for (auto& b : storage)
        b = u8((seed = seed * 1664525u + 1013904223u) >> 24);
    u8* data = storage.data() + offset;
    for (size_t b = 0; b < blocks; ++b)
        for (size_t at : scale_at) {
            u16 half = b % 7 == 3 ? special_scales[(b / 7) % 5] : u16(0x2000 | (data[b * bytes + at] & 0x3FF));
            data[b * bytes + at] = u8(half), data[b * bytes + at + 1] = u8(half >> 8);
        }
    return storage;
}

// The input of a quantised product: n random values quantised in groups of 32, with the
// groups' sums.
struct QuantisedInput {
    std::vector<i8> q;
    std::vector<float> s;
    std::vector<i32> sums;
    explicit QuantisedInput(i32 n, u32 seed) : q(size_t(n)), s(size_t(n / 32)), sums(size_t(n / 32))
    {
        auto x = random_floats(size_t(n), seed, 2.0f);
        llm::ops::quantize(q.data(), s.data(), x.data(), n, 32);
        llm::ops::group_sums(sums.data(), q.data(), n, 32);
    }
};

// The row kernels of the GGUF block types against the reference, bit for bit: row counts
// below, at and past the rows a pass takes (4 on x86-64, 1 on i686), rows whose blocks do
// and do not fill runs of eight (block_quants.h's tree), weights starting at odd addresses
// (rows of 34- and 18-byte blocks are unaligned anyway), and block scales that are
// negative, subnormal, the largest half or infinite (the SIMD kernels convert halves
// themselves).
TEST_P(VariantsOf, QuantisedRowKernelsAtAwkwardSizesAndOffsets)
{
    using llm::TensorType;
    struct Case {
        TensorType type;
        std::vector<i32> columns;
    };
    const Case cases[] = {
        // 16416 columns: past what the Q4_0 (and VNNI Q8_0) kernels keep input block sums
        // for on the stack.
        { TensorType::Q8_0, { 32, 224, 256, 288, 544, 16416 } },
        { TensorType::Q4_0, { 32, 224, 256, 288, 544, 16416 } },
        { TensorType::IQ4_NL, { 32, 224, 256, 288, 544, 16416 } },
        { TensorType::Q4_K, { 256, 768, 2304 } },
        { TensorType::IQ4_XS, { 256, 768, 2304, 16640 } },
        // 16640 columns: past what the Q6_K kernels keep the input's 16-value sums for.
        { TensorType::Q6_K, { 256, 768, 2304, 16640 } },
    };
    for (auto const& c : cases) {
        for (i32 n : c.columns)
            for (i32 d : { 1, 2, 3, 4, 5, 7, 9, 13 })
                for (size_t offset : { size_t(0), size_t(1), size_t(3) }) {
                    QuantisedInput in(n, u32(n * 5 + d));
                    auto storage = awkward_blocks(c.type, n, d, offset);
                    const u8* data = storage.data() + offset;
                    auto op = llm::traits(c.type).op;
                    std::vector<float> expected(static_cast<size_t>(d)), actual(static_cast<size_t>(d));
                    const char* name = "";
                    switch (op) {
                    case llm::kernels::Op::GgufQ8_0:
                    case llm::kernels::Op::GgufQ4_0:
                    case llm::kernels::Op::GgufIq4Nl: {
                        auto const& table = op == llm::kernels::Op::GgufQ8_0 ? llm::kernels::gguf_q8_0_variants()
                            : op == llm::kernels::Op::GgufQ4_0              ? llm::kernels::gguf_q4_0_variants()
                                                                            : llm::kernels::gguf_iq4_nl_variants();
                        table[0].function(expected.data(), in.q.data(), in.s.data(), data, n, d);
                        of_this_isa(table).function(actual.data(), in.q.data(), in.s.data(), data, n, d);
                        name = of_this_isa(table).name;
                        break;
                    }
                    default: {
                        auto const& table = op == llm::kernels::Op::GgufQ4K ? llm::kernels::gguf_q4_k_variants()
                            : op == llm::kernels::Op::GgufQ6K               ? llm::kernels::gguf_q6_k_variants()
                                                                            : llm::kernels::gguf_iq4_xs_variants();
                        table[0].function(expected.data(), in.q.data(), in.s.data(), in.sums.data(), data, n, d);
                        of_this_isa(table).function(actual.data(), in.q.data(), in.s.data(), in.sums.data(), data, n, d);
                        name = of_this_isa(table).name;
                    }
                    }
                    // Bits, not values: infinite scales make NaN, which is never equal to itself.
                    ASSERT_EQ(std::memcmp(actual.data(), expected.data(), actual.size() * sizeof(float)), 0)
                        << llm::name(c.type) << " " << name << " n=" << n << " d=" << d << " offset " << offset << ": " << actual[0]
                        << " vs " << expected[0];
                }
    }
}

// Q4_0, Q8_0, Q4_K and Q6_K rows repacked in groups of eight (interleave.h) against the plain rows'
// reference, bit for bit, with the scalar reading of the interleaved layout too: Q4_0 and Q8_0 rows
// whose blocks do and do not fill runs of eight (7, 9, 17 blocks), one to five groups (AVX-512 VNNI pairs them),
// weights at odd addresses and the special scales above.
TEST_P(VariantsOf, InterleavedRowsGiveThePlainRowsBits)
{
    using llm::TensorType;
    using Table = rt::Span<const llm::kernels::Variant<llm::kernels::MatmulKBlocks>>;
    struct Case {
        TensorType type;
        std::vector<i32> columns;
        Table variants;
    };
    const Case cases[] = {
        { TensorType::Q4_0, { 32, 224, 256, 288, 544, 16416 }, llm::kernels::gguf_q4_0x8_variants() },
        { TensorType::Q8_0, { 32, 224, 256, 288, 544, 16416 }, llm::kernels::gguf_q8_0x8_variants() },
        // 8448 columns: past what avx2tcg's Q4_Kx8 rows widen the input for on the stack.
        { TensorType::Q4_K, { 256, 768, 2304, 5632, 8448 }, llm::kernels::gguf_q4_kx8_variants() },
        { TensorType::Q5_K, { 256, 768, 2304, 5632 }, llm::kernels::gguf_q5_kx8_variants() },
        // 16640 columns: past what the Q6_Kx8 kernels keep the input's 16-value sums for.
        { TensorType::Q6_K, { 256, 768, 5632, 16640 }, llm::kernels::gguf_q6_kx8_variants() },
    };
    for (auto const& c : cases) {
        auto const& variant = of_this_isa(c.variants);
        for (i32 n : c.columns)
            for (i32 d : { 8, 16, 24, 40 })
                for (size_t offset : { size_t(0), size_t(1), size_t(3) }) {
                    QuantisedInput in(n, u32(n * 3 + d));
                    auto storage = awkward_blocks(c.type, n, d, offset);
                    u8* data = storage.data() + offset;
                    std::vector<float> expected(static_cast<size_t>(d)), reference(static_cast<size_t>(d)), actual(static_cast<size_t>(d));
                    auto const& plain = c.type == TensorType::Q4_0 ? llm::kernels::gguf_q4_0_variants()[0].function
                        : c.type == TensorType::Q8_0               ? llm::kernels::gguf_q8_0_variants()[0].function
                                                                   : nullptr;
                    if (plain)
                        plain(expected.data(), in.q.data(), in.s.data(), data, n, d);
                    else if (c.type == TensorType::Q4_K)
                        llm::ops::matmul_q4_k(expected.data(), in.q.data(), in.s.data(), in.sums.data(), data, n, d);
                    else if (c.type == TensorType::Q5_K)
                        llm::ops::matmul_q5_k(expected.data(), in.q.data(), in.s.data(), in.sums.data(), data, n, d);
                    else
                        llm::ops::matmul_q6_k(expected.data(), in.q.data(), in.s.data(), in.sums.data(), data, n, d);
                    llm::Tensor t { c.type, d, n, data };
                    std::vector<u8> scratch(8 * t.row_bytes());
                    ASSERT_TRUE(llm::can_interleave(t));
                    llm::interleave(t, data, { scratch.data(), scratch.size() });
                    c.variants[0].function(reference.data(), in.q.data(), in.s.data(), in.sums.data(), data, n, d);
                    variant.function(actual.data(), in.q.data(), in.s.data(), in.sums.data(), data, n, d);
                    // Bits, not values: infinite scales make NaN.
                    ASSERT_EQ(std::memcmp(reference.data(), expected.data(), sizeof(float) * size_t(d)), 0)
                        << llm::name(t.type) << " scalar n=" << n << " d=" << d;
                    ASSERT_EQ(std::memcmp(actual.data(), expected.data(), sizeof(float) * size_t(d)), 0)
                        << llm::name(t.type) << " " << variant.name << " n=" << n << " d=" << d << " offset " << offset << ": " << actual[0]
                        << " vs " << expected[0];
                }
    }
}

// Interleaved Q5_K rows at the int16 bound of the kernels without VNNI: every value 31
// (all nibbles and fifth bits set) against inputs of +-127 of one sign per group, so each
// group's pmaddubsw pairs are as large as they get (2 * 31 * 127). Four slices' pairs fit
// int16 (31496) and eight would not, so a kernel that widened less often would wrap.
// Input sums and scales as QuantisedInput has them; the plain rows' reference decides.
TEST_P(VariantsOf, Q5KInterleavedRowsAtTheInt16Bound)
{
    auto const& variant = of_this_isa(llm::kernels::gguf_q5_kx8_variants());
    const i32 n = 512, d = 16;
    QuantisedInput in(n, 5);
    for (i32 k = 0; k < n; ++k)
        in.q[size_t(k)] = (k / 32) % 2 ? i8(-127) : i8(127);
    llm::ops::group_sums(in.sums.data(), in.q.data(), n, 32);
    auto storage = awkward_blocks(llm::TensorType::Q5_K, n, d, 0);
    u8* data = storage.data();
    size_t bytes = llm::block_bytes(llm::TensorType::Q5_K);
    for (size_t b = 0; b < size_t(n / 256 * d); ++b)
        std::memset(data + b * bytes + 16, 0xFF, bytes - 16); // fifth bits and nibbles
    std::vector<float> expected(static_cast<size_t>(d)), actual(static_cast<size_t>(d));
    llm::ops::matmul_q5_k(expected.data(), in.q.data(), in.s.data(), in.sums.data(), data, n, d);
    llm::Tensor t { llm::TensorType::Q5_K, d, n, data };
    std::vector<u8> scratch(8 * t.row_bytes());
    llm::interleave(t, data, { scratch.data(), scratch.size() });
    variant.function(actual.data(), in.q.data(), in.s.data(), in.sums.data(), data, n, d);
    for (i32 r = 0; r < d; ++r)
        ASSERT_EQ(__builtin_bit_cast(u32, actual[size_t(r)]), __builtin_bit_cast(u32, expected[size_t(r)]))
            << variant.name << ": row " << r << " gives " << actual[size_t(r)] << ", reference " << expected[size_t(r)];
}

// Every kind of f16 scale in the eight rows of interleaved Q4_0 and Q8_0 blocks and Q4_K, Q5_K and Q6_K
// super-blocks, against the plain rows' reference, bit for bit. avx2tcg converts the eight halves by
// integer steps (emulated_rows.h) and hands subnormal and infinite ones to vcvtph2ps, so
// each case puts a different mix into every group of eight rows: normal halves of either
// sign up to the largest (65504) and down to the smallest (2^-14), zeros of both signs,
// then the same with one subnormal, or one infinity, among them. No NaN: which of two NaNs
// a float step keeps is not part of the result the reference defines.
TEST_P(VariantsOf, InterleavedRowsConvertEveryKindOfScale)
{
    using llm::TensorType;
    const u16 normal_and_zero[] = { 0x3C00 /* 1 */, 0xBC00 /* -1 */, 0x0000 /* +0 */, 0x8000 /* -0 */, 0x7BFF /* 65504 */,
        0xFBFF /* -65504 */, 0x0400 /* 2^-14 */, 0x8401 /* -(2^-14 + 2^-24) */ };
    struct Case {
        const char* name;
        u16 odd_one; // replaces one of the normal halves in each group of eight rows
    };
    const Case cases[] = { { "normal and zero", 0x2E66 /* 0.1 */ }, { "smallest subnormal", 0x0001 }, { "largest subnormal", 0x03FF },
        { "negative subnormal", 0x8200 }, { "infinity", 0x7C00 } };
    for (TensorType type : { TensorType::Q4_0, TensorType::Q8_0, TensorType::Q4_K, TensorType::Q5_K, TensorType::Q6_K }) {
        auto const& variant = of_this_isa(type == TensorType::Q4_0 ? llm::kernels::gguf_q4_0x8_variants()
                : type == TensorType::Q8_0                        ? llm::kernels::gguf_q8_0x8_variants()
                : type == TensorType::Q4_K                        ? llm::kernels::gguf_q4_kx8_variants()
                : type == TensorType::Q5_K                        ? llm::kernels::gguf_q5_kx8_variants()
                                                                  : llm::kernels::gguf_q6_kx8_variants());
        // Where each block keeps its f16 scales (Q4_K and Q5_K: d and dmin).
        std::vector<size_t> scale_at = type == TensorType::Q4_0 || type == TensorType::Q8_0 ? std::vector<size_t> { 0 }
            : type == TensorType::Q4_K || type == TensorType::Q5_K ? std::vector<size_t> { 0, 2 }
                                                                   : std::vector<size_t> { 208 };
        const i32 n = 512, d = 16, per_row = n / i32(llm::block_values(type));
        size_t bytes = llm::block_bytes(type);
        for (auto const& c : cases)
            for (i32 odd_row = 0; odd_row < 8; odd_row += 3) {
                QuantisedInput in(n, u32(odd_row + 11));
                auto storage = awkward_blocks(type, n, d, 0);
                u8* data = storage.data();
                for (i32 r = 0; r < d; ++r)
                    for (i32 b = 0; b < per_row; ++b)
                        for (size_t k = 0; k < scale_at.size(); ++k) {
                            // Rows r of a group see the eight halves in an order that
                            // changes with the block and between d and dmin.
                            i32 slot = (r + 3 * b + 5 * i32(k)) % 8;
                            u16 half = r % 8 == odd_row && k == 0 ? c.odd_one : normal_and_zero[slot];
                            u8* at = data + (size_t(r) * size_t(per_row) + size_t(b)) * bytes + scale_at[k];
                            at[0] = u8(half), at[1] = u8(half >> 8);
                        }
                std::vector<float> expected(static_cast<size_t>(d)), actual(static_cast<size_t>(d));
                if (type == TensorType::Q4_0)
                    llm::kernels::gguf_q4_0_variants()[0].function(expected.data(), in.q.data(), in.s.data(), data, n, d);
                else if (type == TensorType::Q8_0)
                    llm::kernels::gguf_q8_0_variants()[0].function(expected.data(), in.q.data(), in.s.data(), data, n, d);
                else if (type == TensorType::Q4_K)
                    llm::ops::matmul_q4_k(expected.data(), in.q.data(), in.s.data(), in.sums.data(), data, n, d);
                else if (type == TensorType::Q5_K)
                    llm::ops::matmul_q5_k(expected.data(), in.q.data(), in.s.data(), in.sums.data(), data, n, d);
                else
                    llm::ops::matmul_q6_k(expected.data(), in.q.data(), in.s.data(), in.sums.data(), data, n, d);
                llm::Tensor t { type, d, n, data };
                std::vector<u8> scratch(8 * t.row_bytes());
                ASSERT_TRUE(llm::can_interleave(t));
                llm::interleave(t, data, { scratch.data(), scratch.size() });
                variant.function(actual.data(), in.q.data(), in.s.data(), in.sums.data(), data, n, d);
                for (i32 r = 0; r < d; ++r)
                    ASSERT_EQ(__builtin_bit_cast(u32, actual[size_t(r)]), __builtin_bit_cast(u32, expected[size_t(r)]))
                        << llm::name(type) << " " << variant.name << ", " << c.name << " in row " << odd_row << ": row " << r << " gives "
                        << actual[size_t(r)] << ", reference " << expected[size_t(r)];
            }
    }
}

// llama2.c int8 rows (group 32) repacked in groups of eight with their scales (Q8x8,
// interleave.h) against ops::matmul_q8 on the plain rows, bit for bit: the scalar reading
// of the layout and this instruction set's kernel, with the input's group sums given and
// not (the VNNI kernels then sum them, or past 512 groups take |w| and sign(x, w)); group
// counts with and without runs of eight (1, 7, 9, 25, 513), one to five row groups (AVX-512 VNNI pairs them),
// values and scales at odd addresses, weights at -128 and +-127. Row by row, the repacked
// tensor dequantises to the plain one's floats.
TEST_P(VariantsOf, Int8InterleavedRowsGiveThePlainRowsBits)
{
    auto const& variant = of_this_isa(llm::kernels::matmul_q8x8_variants());
    for (i32 n : { 32, 224, 288, 800, 16416 })
        for (i32 d : { 8, 16, 24, 40 })
            for (size_t offset : { size_t(0), size_t(1), size_t(3) }) {
                size_t count = size_t(n) * size_t(d), groups = count / 32;
                auto w = random_floats(count, u32(n + d + 5)), x = random_floats(size_t(n), u32(n * 3 + 1));
                std::vector<i8> values(count + offset);
                std::vector<float> scales(groups + offset), xs(size_t(n / 32));
                std::vector<i8> xq(static_cast<size_t>(n));
                i8* wq = values.data() + offset;
                float* ws = scales.data() + offset;
                llm::ops::quantize(wq, ws, w.data(), i32(count), 32);
                llm::ops::quantize(xq.data(), xs.data(), x.data(), n, 32);
                // The extremes the stored w + 128 and pmaddubsw's bound must carry.
                for (size_t i = 0; i < count; i += 37)
                    wq[i] = i % 3 == 0 ? i8(-128) : i % 3 == 1 ? i8(127) : i8(-127);
                std::vector<i32> sums(static_cast<size_t>(n / 32));
                llm::ops::group_sums(sums.data(), xq.data(), n, 32);
                std::vector<float> expected(static_cast<size_t>(d)), reference(static_cast<size_t>(d)), actual(static_cast<size_t>(d)),
                    without_sums(static_cast<size_t>(d));
                llm::ops::matmul_q8(expected.data(), xq.data(), xs.data(), wq, ws, n, d, 32);
                llm::Tensor t { llm::TensorType::Q8, d, n, reinterpret_cast<const u8*>(wq), ws, 32 };
                std::vector<std::vector<float>> plain_rows;
                for (i32 r = 0; r < d; ++r) {
                    plain_rows.emplace_back(size_t(n));
                    llm::dequantize_row(t, size_t(r), plain_rows.back().data());
                }
                ASSERT_TRUE(llm::can_interleave(t));
                std::vector<u8> scratch(llm::scratch_bytes(t));
                llm::interleave_q8(t, reinterpret_cast<u8*>(wq), ws, { scratch.data(), scratch.size() });
                ASSERT_EQ(t.type, llm::TensorType::Q8x8);
                auto bytes = reinterpret_cast<const u8*>(wq);
                llm::kernels::matmul_q8x8_variants()[0].function(reference.data(), xq.data(), xs.data(), sums.data(), bytes, ws, n, d);
                variant.function(actual.data(), xq.data(), xs.data(), sums.data(), bytes, ws, n, d);
                variant.function(without_sums.data(), xq.data(), xs.data(), nullptr, bytes, ws, n, d);
                ASSERT_EQ(std::memcmp(reference.data(), expected.data(), sizeof(float) * size_t(d)), 0) << "scalar n=" << n << " d=" << d;
                ASSERT_EQ(std::memcmp(actual.data(), expected.data(), sizeof(float) * size_t(d)), 0)
                    << variant.name << " n=" << n << " d=" << d << " offset " << offset << ": " << actual[0] << " vs " << expected[0];
                ASSERT_EQ(std::memcmp(without_sums.data(), expected.data(), sizeof(float) * size_t(d)), 0)
                    << variant.name << " without sums n=" << n << " d=" << d << " offset " << offset;
                std::vector<float> row(static_cast<size_t>(n));
                for (i32 r = 0; r < d; ++r) {
                    llm::dequantize_row(t, size_t(r), row.data());
                    ASSERT_EQ(std::memcmp(row.data(), plain_rows[size_t(r)].data(), sizeof(float) * size_t(n)), 0) << "row " << r << " n=" << n;
                }
            }
}

TEST_P(VariantsOf, ElementwiseAreBitIdentical)
{
    for (i32 n : sizes) {
        auto x = random_floats(size_t(n), u32(n), 4.0f), w = random_floats(size_t(n), u32(n + 1)), y = random_floats(size_t(n), u32(n + 2));
        {
            auto const& variant = of_this_isa(llm::kernels::rmsnorm_variants());
            std::vector<float> expected(static_cast<size_t>(n)), actual(static_cast<size_t>(n));
            llm::ops::rmsnorm(expected.data(), x.data(), w.data(), n, 1e-5f);
            variant.function(actual.data(), x.data(), w.data(), n, 1e-5f);
            ASSERT_TRUE(same_bits(actual.data(), expected.data(), n)) << variant.name << " n=" << n;
        }
        for (float spread : { 4.0f, 100.0f }) { // 100: exponents down to the clamp
            auto const& variant = of_this_isa(llm::kernels::softmax_variants());
            auto expected = random_floats(size_t(n), u32(n), spread);
            auto actual = expected;
            llm::ops::softmax(expected.data(), n);
            variant.function(actual.data(), n);
            ASSERT_TRUE(same_bits(actual.data(), expected.data(), n)) << variant.name << " n=" << n << " spread " << spread;
        }
        for (float spread : { 4.0f, 100.0f }) {
            auto const& variant = of_this_isa(llm::kernels::swiglu_variants());
            auto expected = random_floats(size_t(n), u32(n), spread);
            auto actual = expected;
            llm::ops::swiglu(expected.data(), y.data(), n);
            variant.function(actual.data(), y.data(), n);
            ASSERT_TRUE(same_bits(actual.data(), expected.data(), n)) << variant.name << " n=" << n << " spread " << spread;
        }
    }
}

// Attention's scores and weighted sums against the reference, bit for bit: head sizes
// around every vector width and its multiples, 1 to 67 positions, positions further
// apart than a head (the cache's kv_dim) and at an odd address.
TEST_P(VariantsOf, AttentionIsBitIdentical)
{
    auto const& variant = of_this_isa(llm::kernels::attention_variants());
    for (i32 n : { 1, 3, 4, 7, 8, 15, 16, 17, 31, 32, 33, 48, 63, 64, 65, 80, 100, 128, 129 })
        for (i32 count : { 1, 2, 5, 16, 67 })
            for (size_t stride : { size_t(n), size_t(n) + 13 }) {
                auto q = random_floats(size_t(n), u32(n + count), 4.0f);
                auto cache = random_floats(stride * size_t(count) + 1, u32(3 * n + count));
                const float* rows = cache.data() + 1;
                std::vector<float> expected(static_cast<size_t>(count)), actual(static_cast<size_t>(count), -1.0f);
                llm::ops::attention_scores(expected.data(), q.data(), rows, stride, count, n, 6.9282f);
                variant.function.scores(actual.data(), q.data(), rows, stride, count, n, 6.9282f);
                ASSERT_TRUE(same_bits(actual.data(), expected.data(), count)) << variant.name << " scores n=" << n << " count " << count;
                llm::ops::softmax(expected.data(), count);
                std::vector<float> expected_out(static_cast<size_t>(n)), actual_out(static_cast<size_t>(n), -1.0f);
                llm::ops::weighted_sum(expected_out.data(), expected.data(), rows, stride, count, n);
                variant.function.weighted_sum(actual_out.data(), expected.data(), rows, stride, count, n);
                ASSERT_TRUE(same_bits(actual_out.data(), expected_out.data(), n)) << variant.name << " weighted sum n=" << n << " count " << count;
            }
}

// The input quantisation: every group kind the reference tells apart (normal ones, exact
// halves of the scale, zeros, subnormal scales, infinities and NaNs), at group sizes the
// vectors divide and ones they do not, the int8 values and the scales bit for bit.
TEST_P(VariantsOf, QuantizeIsBitIdentical)
{
    auto const& variant = of_this_isa(llm::kernels::quantize_variants());
    for (i32 group : { 8, 16, 32, 64, 12 }) {
        // Nine groups, then five values that make no group (left alone), one float past
        // an aligned start.
        i32 n = group * 9 + 5;
        auto storage = random_floats(size_t(n) + 1, u32(group), 3.0f);
        float* x = storage.data() + 1;
        for (i32 i = 0; i < group; ++i) {
            x[group + i] = float(i % 9 - 4) * 0.5f * 0x1p-7f; // halves of the scale, 2^-7 (set below)
            x[2 * group + i] = 0.0f;                           // scale 0
            x[3 * group + i] = x[i] * 1e-39f;                  // subnormal scale
            x[4 * group + i] = -x[i] * 1e30f;                  // large
            x[7 * group + i] = i == 3 ? 1e-45f : 0.0f;         // one subnormal value alone
        }
        x[group] = 127.0f * 0x1p-7f;
        x[2 * group] = -0.0f;
        x[5 * group + 1] = std::numeric_limits<float>::infinity();
        x[6 * group + 2] = std::numeric_limits<float>::quiet_NaN();
        x[8 * group] = 127.0f; // the largest value is exactly 127 scales
        std::vector<i8> expected_q(static_cast<size_t>(n), i8(99)), actual_q(static_cast<size_t>(n), i8(99));
        std::vector<float> expected_s(9), actual_s(9, -1.0f);
        llm::ops::quantize(expected_q.data(), expected_s.data(), x, n, group);
        variant.function(actual_q.data(), actual_s.data(), x, n, group);
        EXPECT_EQ(actual_q, expected_q) << variant.name << " group " << group;
        ASSERT_TRUE(same_bits(actual_s.data(), expected_s.data(), 9)) << variant.name << " group " << group;
    }
}

// The sampler's candidate list, as the reference makes it: every count around the vector
// widths, floors that keep none, some and all, values equal to the floor, NaN (never kept),
// and the room past the kept ones left as it was beyond the 16 slots the contract allows.
TEST_P(VariantsOf, SelectCandidatesAsTheReference)
{
    auto const& variant = of_this_isa(llm::kernels::select_candidates_variants());
    std::vector<i32> counts(sizes, sizes + sizeof sizes / sizeof sizes[0]);
    counts.insert(counts.end(), { 0, 2, 48, 513, 32000 });
    for (i32 count : counts) {
        auto values = random_floats(size_t(count), u32(count + 5), 1.0f);
        for (size_t i = 0; i < values.size(); i += 7)
            values[i] = 0.25f; // equal to one of the floors
        if (count > 20)
            values[19] = std::numeric_limits<float>::quiet_NaN();
        for (float floor : { -2.0f, 0.0f, 0.25f, 0.9f, 2.0f }) {
            llm::Candidate marker { -1.0f, -1 };
            std::vector<llm::Candidate> expected(size_t(count) + 16, marker), actual(size_t(count) + 16, marker);
            size_t expected_count = llm::ops::select_candidates(values.data(), count, floor, expected.data());
            size_t actual_count = variant.function(values.data(), count, floor, actual.data());
            ASSERT_EQ(actual_count, expected_count) << variant.name << " count " << count << " floor " << floor;
            size_t kept_nan = 0;
            for (size_t i = 0; i < actual_count; ++i) {
                ASSERT_EQ(actual[i].index, expected[i].index) << variant.name << " count " << count << " floor " << floor << " at " << i;
                ASSERT_EQ(actual[i].probability, values[size_t(actual[i].index)]) << variant.name << " at " << i;
                ASSERT_GE(actual[i].probability, floor) << variant.name << " at " << i;
                kept_nan += std::isnan(actual[i].probability);
            }
            EXPECT_EQ(kept_nan, 0u) << variant.name;
            size_t written_past = 0;
            for (size_t i = actual_count; i < actual.size(); ++i)
                written_past = actual[i].index != -1 ? i + 1 - actual_count : written_past;
            EXPECT_LE(written_past, 16u) << variant.name << " count " << count;
            EXPECT_LE(actual_count + written_past, size_t(count) + 16) << variant.name;
        }
    }
}

// Tokens for the nucleus's rounded units at the ulp u of `shifter`: up to 2^12 units with
// arbitrary low bits, and some exactly halfway between two multiples of u.
std::vector<float> unit_tokens(size_t count, u32 seed, float shifter, std::vector<size_t> const& halfway)
{
    float u = shifter / 12582912.0f;
    auto tokens = random_floats(count, seed, 4096.0f);
    for (float& token : tokens)
        token = std::fabs(token) * u;
    for (size_t at : halfway)
        if (at < count)
            tokens[at] = (float(at % 1000) + 0.5f) * u;
    return tokens;
}

// The reference against the definition, in double: each token's units are its quotient by u
// rounded to the nearest integer, and the first halfway one (quotient k + 1/2) ends the sum.
TEST(Kernels, RoundedUnitsAsDefined)
{
    for (float shifter : { 0x1.8p-1f, 0x1.8p-2f, 0x1.8p-7f }) {
        double u = double(shifter) / 12582912.0;
        for (size_t count : { 0u, 1u, 300u, 5000u }) {
            for (std::vector<size_t> halfway : { std::vector<size_t> {}, std::vector<size_t> { 7 }, std::vector<size_t> { 4000, 299 } }) {
                auto tokens = unit_tokens(count, u32(count + 1), shifter, halfway);
                u64 units = 0;
                size_t first_halfway = count;
                for (size_t i = 0; i < count; ++i) {
                    double quotient = double(tokens[i]) / u, whole = std::floor(quotient);
                    if (quotient - whole == 0.5) {
                        first_halfway = i;
                        break;
                    }
                    units += u64(std::nearbyint(quotient));
                }
                auto sum = llm::ops::rounded_units(tokens.data(), u32(count), shifter, ~u64(0));
                EXPECT_EQ(sum.units, units) << "count " << count << " shifter " << shifter;
                EXPECT_EQ(sum.halfway_at, u32(first_halfway)) << "count " << count << " shifter " << shifter;
            }
        }
    }
}

// Each set's rounded units as the reference's: counts around the vector widths and the
// blocks, halfway tokens in a block's vectors and in its tail, limits that stop the sum
// after some blocks.
TEST_P(VariantsOf, RoundedUnitsAsTheReference)
{
    auto const& variant = of_this_isa(llm::kernels::rounded_units_variants());
    for (float shifter : { 0x1.8p-1f, 0x1.8p-5f }) {
        for (u32 count : { 0u, 1u, 3u, 15u, 16u, 17u, 255u, 256u, 257u, 1000u, 25011u }) {
            for (std::vector<size_t> halfway : { std::vector<size_t> {}, std::vector<size_t> { 0 }, std::vector<size_t> { 254, 3 },
                     std::vector<size_t> { 20000, 999, 16 }, std::vector<size_t> { 25010 } }) {
                auto tokens = unit_tokens(count, count + 3, shifter, halfway);
                for (u64 limit : { ~u64(0), u64(1), u64(300000), u64(2000000) }) {
                    auto expected = llm::ops::rounded_units(tokens.data(), count, shifter, limit);
                    auto actual = variant.function(tokens.data(), count, shifter, limit);
                    EXPECT_EQ(actual.units, expected.units) << variant.name << " count " << count << " limit " << limit;
                    EXPECT_EQ(actual.halfway_at, expected.halfway_at) << variant.name << " count " << count << " limit " << limit;
                }
            }
        }
    }
}

// Probabilities for the tail's pass: flat ones, with some above the threshold, some below the
// cutoff, some exactly on a bin's edge (k * w: the reference then lists them) and some on the
// threshold and the cutoff themselves.
struct TailCase {
    std::vector<float> values;
    float cutoff, threshold, scale;
};
TailCase tail_case(size_t count, u32 seed, size_t exact_every)
{
    float width = 0x1p-28f;
    TailCase c { std::vector<float>(count), 3.125e-6f, width * 16384.0f, 1.0f / width };
    auto noise = random_floats(count, seed, 1.0f);
    for (size_t i = 0; i < count; ++i) {
        float p = 3e-5f * std::exp(noise[i] * 1.2f); // from ~9e-6 to ~1e-4: some above the threshold
        // Every third block of eight: its tokens above the threshold by the bits of a mask
        // that runs through all 256 (compressing eight lanes must keep each in order).
        if (i / 8 % 3 == 1)
            p = ((i / 24) % 256 >> (i % 8) & 1) ? c.threshold * (1.0f + float(i % 64) / 64.0f) : 2e-5f;
        if (i % 97 == 5)
            p = 1e-6f; // below the cutoff
        if (exact_every && i % exact_every == 3)
            p = float(900 + (i * 37) % 15000) * width;
        if (i % 1009 == 7)
            p = c.threshold;
        if (i % 1013 == 9)
            p = c.cutoff;
        c.values[i] = p;
    }
    return c;
}

// The reference against its definition, token by token.
TEST(Kernels, BinTailAsDefined)
{
    auto c = tail_case(5000, 3, 50);
    std::vector<u16> bins(c.values.size());
    std::vector<float> above(c.values.size() + 16);
    std::vector<u32> exact(400);
    llm::TailBinning out { bins.data(), above.data(), exact.data(), u32(exact.size()) };
    llm::ops::bin_tail(c.values.data(), i32(c.values.size()), c.cutoff, c.threshold, c.scale, out);
    u32 above_count = 0, exact_count = 0;
    for (size_t i = 0; i < c.values.size(); ++i) {
        float p = c.values[i];
        double scaled = double(p) * double(c.scale);
        bool in_tail = p >= c.cutoff && p < c.threshold, on_edge = in_tail && scaled == std::floor(scaled);
        if (p >= c.threshold)
            EXPECT_EQ(above[above_count++], p) << i;
        if (on_edge)
            EXPECT_EQ(exact[exact_count++], u32(i)) << i;
        u16 expected = in_tail && !on_edge ? u16(std::floor(scaled)) : u16(llm::spare_bin + i % 8);
        EXPECT_EQ(bins[i], expected) << i;
    }
    EXPECT_EQ(out.above_count, above_count);
    EXPECT_EQ(out.exact_count, exact_count);
    EXPECT_GT(above_count, 100u);
    EXPECT_GT(exact_count, 50u);
}

// Each set's pass as the reference's: counts around the vector widths, with and without exact
// tokens, more exact ones than the list holds (all counted, the first listed).
TEST_P(VariantsOf, BinTailAsTheReference)
{
    auto const& variant = of_this_isa(llm::kernels::bin_tail_variants());
    for (u32 count : { 0u, 1u, 15u, 16u, 17u, 33u, 1000u, 32000u, 32005u }) {
        for (size_t exact_every : { size_t(0), size_t(40), size_t(7) }) {
            for (u32 most_exact : { 256u, 3u }) {
                auto c = tail_case(count, count + 11, exact_every);
                std::vector<u16> bins[2] = { std::vector<u16>(count), std::vector<u16>(count) };
                std::vector<float> above[2] = { std::vector<float>(count + 16), std::vector<float>(count + 16) };
                std::vector<u32> exact[2] = { std::vector<u32>(most_exact), std::vector<u32>(most_exact) };
                llm::TailBinning expected { bins[0].data(), above[0].data(), exact[0].data(), most_exact };
                llm::TailBinning actual { bins[1].data(), above[1].data(), exact[1].data(), most_exact };
                llm::ops::bin_tail(c.values.data(), i32(count), c.cutoff, c.threshold, c.scale, expected);
                variant.function(c.values.data(), i32(count), c.cutoff, c.threshold, c.scale, actual);
                std::string what = std::string(variant.name) + " count " + std::to_string(count) + " exact every " + std::to_string(exact_every);
                EXPECT_EQ(bins[1], bins[0]) << what;
                ASSERT_EQ(actual.above_count, expected.above_count) << what;
                EXPECT_TRUE(std::equal(above[0].begin(), above[0].begin() + expected.above_count, above[1].begin())) << what;
                ASSERT_EQ(actual.exact_count, expected.exact_count) << what;
                EXPECT_EQ(exact[1], exact[0]) << what;
            }
        }
    }
}

// The active set's list, rounded units and tail pass follow the plan's softmax choice.
TEST(Kernels, SelectCandidatesFollowsTheSoftmaxChoice)
{
    auto cpu = rt::detect_cpu_features();
    auto plan = llm::kernels::widest_plan(cpu);
    llm::kernels::activate(plan);
    size_t chosen = plan.choice[size_t(llm::kernels::Op::Softmax)];
    EXPECT_EQ(llm::kernels::active().select_candidates, llm::kernels::select_candidates_variants()[chosen].function);
    EXPECT_EQ(llm::kernels::active().rounded_units, llm::kernels::rounded_units_variants()[chosen].function);
    EXPECT_EQ(llm::kernels::active().bin_tail, llm::kernels::bin_tail_variants()[chosen].function);
    llm::kernels::activate(llm::kernels::Plan {});
    EXPECT_EQ(llm::kernels::active().select_candidates, llm::kernels::select_candidates_variants()[0].function);
    EXPECT_EQ(llm::kernels::active().rounded_units, llm::kernels::rounded_units_variants()[0].function);
    EXPECT_EQ(llm::kernels::active().bin_tail, llm::kernels::bin_tail_variants()[0].function);
}

TEST_P(VariantsOf, SoftmaxEdgeCases)
{
    auto const& variant = of_this_isa(llm::kernels::softmax_variants());
    std::vector<float> huge(37, 88.0f), tiny(37, -1000.0f);
    huge[5] = 1000.0f; // exp(x - max) must not overflow
    variant.function(huge.data(), 37);
    EXPECT_NEAR(huge[5], 1.0f, 1e-6f) << variant.name;
    variant.function(tiny.data(), 37);
    EXPECT_NEAR(tiny[0], 1.0f / 37.0f, 1e-6f) << variant.name;
}

// Vocabulary-sized softmaxes, bit for bit: sums in the tens of thousands (the FMA
// variants divide by Markstein's correction, simd::divide_all), values spread down past
// the 2^-100 below which a vector is divided after all, and a sum above the 2^20 up to
// which the correction is used.
TEST_P(VariantsOf, SoftmaxAtVocabularySizesIsBitIdentical)
{
    auto const& variant = of_this_isa(llm::kernels::softmax_variants());
    auto check = [&](i32 n, float spread) {
        auto expected = random_floats(size_t(n), u32(n) ^ u32(spread), spread);
        auto actual = expected;
        llm::ops::softmax(expected.data(), n);
        variant.function(actual.data(), n);
        ASSERT_TRUE(same_bits(actual.data(), expected.data(), n)) << variant.name << " n=" << n << " spread " << spread;
    };
    for (i32 n : { 32000, 32003 })
        for (float spread : { 0.5f, 4.0f, 40.0f, 75.0f })
            check(n, spread);
    check((1 << 20) + 4099, 0.01f);
}

// What softmax returns: the reference's sum, bit for bit, whose reciprocal is the largest
// result; NaN for a NaN or an infinity anywhere (in each of the four maxima's vectors, in a
// leftover vector and in the tail), which the sampler turns into an error.
TEST_P(VariantsOf, SoftmaxReturnsItsSumOrNaNForNonFiniteInputs)
{
    auto const& variant = of_this_isa(llm::kernels::softmax_variants());
    for (i32 n : { 1, 7, 16, 17, 100, 1000, 32003 }) {
        auto expected = random_floats(size_t(n), u32(n) + 5, 4.0f);
        auto actual = expected;
        float expected_sum = llm::ops::softmax(expected.data(), n);
        float sum = variant.function(actual.data(), n);
        ASSERT_TRUE(same_bits(&sum, &expected_sum, 1)) << variant.name << " n=" << n;
        EXPECT_EQ(1.0f / sum, *std::max_element(actual.begin(), actual.end())) << variant.name << " n=" << n;
        for (float bad : { std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity() })
            for (i32 at : { 0, n / 3, n / 2, std::max(0, n - 1 - n % 16), n - 1 }) {
                auto values = random_floats(size_t(n), u32(n), 4.0f);
                values[size_t(at)] = bad;
                auto reference = values;
                EXPECT_TRUE(std::isnan(llm::ops::softmax(reference.data(), n))) << "reference n=" << n << " at " << at << " " << bad;
                EXPECT_TRUE(std::isnan(variant.function(values.data(), n))) << variant.name << " n=" << n << " at " << at << " " << bad;
            }
    }
}

// The tuner times the GGUF kernels on scratch blocks that every block type reads from the
// same bytes: each type's f16 scales there must be small normal halves, as a model's are (a
// random half is subnormal, infinite or NaN one time in sixteen: slow paths that would time
// what a model never runs, e.g. avx2tcg's vcvtph2ps fallback).
TEST(Kernels, TunerScratchBlocksHaveSmallNormalScales)
{
    using llm::TensorType;
    struct Scales {
        TensorType type;
        std::vector<size_t> at; // d, and the min's scale where the block has one (GGUF's layouts)
    };
    const Scales types[] = { { TensorType::Q8_0, { 0 } }, { TensorType::Q4_0, { 0 } }, { TensorType::Q5_0, { 0 } }, { TensorType::Q5_1, { 0, 2 } }, { TensorType::Q4_1, { 0, 2 } },
        { TensorType::Q4_K, { 0, 2 } }, { TensorType::Q5_K, { 0, 2 } }, { TensorType::Q6_K, { 208 } }, { TensorType::Q3_K, { 108 } }, { TensorType::Q2_K, { 80, 82 } } };
    const i32 columns = 2048;
    std::vector<u8> data(4 * llm::row_bytes(TensorType::Q8_0, columns));
    llm::kernels::fill_scratch_blocks({ data.data(), data.size() }, columns);
    for (auto const& t : types) {
        size_t bytes = llm::block_bytes(t.type);
        for (size_t b = 0; (b + 1) * bytes <= data.size(); ++b)
            for (size_t at : t.at) {
                u16 half = u16(data[b * bytes + at] | data[b * bytes + at + 1] << 8);
                u32 exponent = (half >> 10) & 31;
                ASSERT_TRUE(exponent > 0 && exponent < 31) << llm::name(t.type) << " block " << b << " byte " << at << ": 0x" << std::hex << half;
                ASSERT_LT(std::fabs(llm::ops::half_to_float(half)), 1.0f) << llm::name(t.type) << " block " << b;
            }
    }
}

TEST(Kernels, PlansParseAndFormat)
{
    auto plan = llm::kernels::Plan::parse("matmul:sse2,attention:scalar", cpu());
    ASSERT_FALSE(plan.is_error());
    EXPECT_EQ(plan.value().choice[size_t(llm::kernels::Op::Matmul)], 1);
    char text[1024];
    rt::BufferSink sink(text, sizeof text);
    plan.value().format(sink);
    EXPECT_EQ(std::string(text), "matmul:sse2,matmul_q8:scalar,rmsnorm:scalar,softmax:scalar,attention:scalar,swiglu:scalar,gguf_q8_0:scalar,gguf_q4_0:scalar,gguf_q4_0x8:scalar,gguf_q8_0x8:scalar,gguf_q4_k:scalar,gguf_q4_kx8:scalar,gguf_q6_k:scalar,gguf_q6_kx8:scalar,gguf_q5_0:scalar,gguf_q5_1:scalar,gguf_q4_1:scalar,gguf_q5_k:scalar,gguf_q5_kx8:scalar,gguf_q3_k:scalar,gguf_q2_k:scalar,gguf_f16:scalar,gguf_bf16:scalar,gguf_iq4_nl:scalar,gguf_iq4_xs:scalar,matmul_q8x8:scalar,quantize:scalar,prefetch:both");
    EXPECT_TRUE(llm::kernels::Plan::parse("matmul", cpu()).is_error());
    // The row kernels' prefetch mode: both unless named; none, l1, l2 or both.
    for (auto mode : { llm::kernels::Prefetch::none, llm::kernels::Prefetch::first_level, llm::kernels::Prefetch::second_level, llm::kernels::Prefetch::both_levels }) {
        std::string named = std::string("matmul:sse2,prefetch:") + llm::kernels::prefetch_names[size_t(mode)];
        auto with_mode = llm::kernels::Plan::parse({ named.data(), named.size() }, cpu());
        ASSERT_FALSE(with_mode.is_error()) << named;
        EXPECT_EQ(with_mode.value().prefetch, mode) << named;
        rt::BufferSink formatted(text, sizeof text);
        with_mode.value().format(formatted);
        EXPECT_NE(std::string(text).find(",prefetch:" + std::string(llm::kernels::prefetch_names[size_t(mode)])), std::string::npos) << text;
    }
    EXPECT_TRUE(llm::kernels::Plan::parse("prefetch:l3", cpu()).is_error());
    EXPECT_TRUE(llm::kernels::Plan::parse("prefetch:", cpu()).is_error());
    // A core count per operation: chosen by the tuner, kept by the plan it prints.
    auto cores = llm::kernels::Plan::parse("matmul:sse2@2,attention:scalar@1", cpu());
    ASSERT_FALSE(cores.is_error());
    EXPECT_EQ(cores.value().workers[size_t(llm::kernels::Op::Matmul)], 2);
    EXPECT_EQ(cores.value().workers[size_t(llm::kernels::Op::Attention)], 1);
    EXPECT_EQ(cores.value().workers[size_t(llm::kernels::Op::Rmsnorm)], 0);
    rt::BufferSink again(text, sizeof text);
    cores.value().format(again);
    EXPECT_EQ(std::string(text).substr(0, 12), "matmul:sse2@");
    EXPECT_NE(std::string(text).find("attention:scalar@1,"), std::string::npos);
    EXPECT_TRUE(llm::kernels::Plan::parse("matmul:sse2@0", cpu()).is_error());
    EXPECT_TRUE(llm::kernels::Plan::parse("matmul:sse2@", cpu()).is_error());
    EXPECT_TRUE(llm::kernels::Plan::parse("matmul:sse2@two", cpu()).is_error());
    EXPECT_TRUE(llm::kernels::Plan::parse("matmul:neon", cpu()).is_error());
    EXPECT_TRUE(llm::kernels::Plan::parse("convolution:avx2", cpu()).is_error());
    rt::CpuFeatures old_cpu;
    old_cpu.sse2 = true;
    auto refused = llm::kernels::Plan::parse("matmul:avx2", old_cpu);
    ASSERT_TRUE(refused.is_error());
    EXPECT_NE(std::string(refused.error().message().data(), refused.error().message().length()).find("cannot run"), std::string::npos);
}

// The VNNI sets: named in plans like the others, refused on CPUs without VNNI (QEMU's
// -cpu max among them, which must keep choosing avx2 or avx512), and the widest that a
// CPU can run is the untuned default.
TEST(Kernels, VnniPlansNeedVnni)
{
    rt::CpuFeatures avx512_only;
    avx512_only.sse2 = avx512_only.avx2 = avx512_only.fma = avx512_only.f16c = true;
    avx512_only.avx512f = avx512_only.avx512bw = avx512_only.avx512vl = true;
    EXPECT_TRUE(llm::kernels::Plan::parse("gguf_q4_k:avx512vnni", avx512_only).is_error());
    EXPECT_TRUE(llm::kernels::Plan::parse("gguf_q4_k:avxvnni", avx512_only).is_error());
    EXPECT_EQ(llm::kernels::variant_name(llm::kernels::Op::GgufQ4K, llm::kernels::widest_plan(avx512_only).choice[size_t(llm::kernels::Op::GgufQ4K)]),
        std::string("avx512"));

    rt::CpuFeatures with_vnni = avx512_only;
    with_vnni.avx512_vnni = true;
    auto plan = llm::kernels::Plan::parse("gguf_q4_k:avx512vnni,gguf_q8_0:avx512vnni@2", with_vnni);
    ASSERT_FALSE(plan.is_error());
    char text[512];
    rt::BufferSink sink(text, sizeof text);
    plan.value().format(sink);
    EXPECT_NE(std::string(text).find(",gguf_q8_0:avx512vnni@2,"), std::string::npos) << text;
    EXPECT_NE(std::string(text).find(",gguf_q4_k:avx512vnni,"), std::string::npos) << text;
    EXPECT_TRUE(llm::kernels::Plan::parse("gguf_q4_k:avxvnni", with_vnni).is_error());
    EXPECT_EQ(llm::kernels::variant_name(llm::kernels::Op::GgufQ4K, llm::kernels::widest_plan(with_vnni).choice[size_t(llm::kernels::Op::GgufQ4K)]),
        std::string("avx512vnni"));

    rt::CpuFeatures avx_vnni_only;
    avx_vnni_only.sse2 = avx_vnni_only.avx2 = avx_vnni_only.fma = avx_vnni_only.f16c = avx_vnni_only.avx_vnni = true;
    EXPECT_FALSE(llm::kernels::Plan::parse("gguf_q4_0:avxvnni", avx_vnni_only).is_error());
    EXPECT_TRUE(llm::kernels::Plan::parse("gguf_q4_0:avx512vnni", avx_vnni_only).is_error());
    EXPECT_EQ(llm::kernels::variant_name(llm::kernels::Op::GgufQ4_0, llm::kernels::widest_plan(avx_vnni_only).choice[size_t(llm::kernels::Op::GgufQ4_0)]),
        std::string("avxvnni"));
}

}
