#include "screened_argmax.h"
#include "interleave.h"
#include "ops.h"
#include "sampler.h"
#include <rt/profile.h>

namespace llm {

namespace {

constexpr i32 group = 32;
constexpr double unit_roundoff = 1.0 / 16777216.0; // float: 2^-24
// How far past half a step a quantised value can lie: 127 quotients' rounding, generously.
constexpr double quantisation_error = 0.5 + 1.0 / 65536.0;
constexpr double largest_float = 3.40282347e38;
constexpr double smallest_normal = 1.17549435e-38;
constexpr double infinity = __builtin_inf();

// A float at or above `value` (float(value) may round down).
float rounded_up(double value)
{
    float nearest = float(value);
    if (double(nearest) >= value)
        return nearest;
    return __builtin_bit_cast(float, __builtin_bit_cast(u32, nearest) + (nearest > 0.0f ? 1 : -1));
}

bool normal_or_zero(float scale) { return scale == 0.0f || (double(scale) >= smallest_normal && double(scale) <= largest_float); }

// One group of weights in int8 with a power-of-two step s, by integer steps alone: each
// q = w / s rounded half away from zero, exactly, so |w - s q| <= s / 2; s is the smallest
// power of two with max|w| <= 127 s. No float arithmetic: QEMU emulates that lane by lane,
// and ops::quantize's division made the 15M model's copy take 0.9 s there (0.37 s now). Returns the sum
// of |q|, or -1 for a group with NaN or infinity or one so small that s would be subnormal.
i32 quantize_weights(const float* values, i8* q, float& step)
{
    u32 largest = 0; // the bits of the largest magnitude (non-negative floats order as their bits)
    for (i32 i = 0; i < group; ++i)
        largest = rt::max(largest, __builtin_bit_cast(u32, values[i]) & 0x7FFFFFFFu);
    if (largest >= 0x7F800000u)
        return -1; // NaN or infinity
    if (largest == 0) {
        for (i32 i = 0; i < group; ++i)
            q[i] = 0;
        step = 0.0f;
        return 0;
    }
    // largest = mantissa * 2^(exponent - 150), mantissa in [2^23, 2^24); s = 2^(exponent -
    // 150 + shift) with 127 * 2^shift >= mantissa: shift 17 or 18 (127 * 2^16 < 2^23).
    i32 exponent = i32(largest >> 23);
    u32 mantissa = (largest & 0x7FFFFFu) | 0x800000u;
    i32 shift = mantissa <= 127u << 17 ? 17 : 18;
    i32 step_exponent = exponent - 23 + shift; // s's biased exponent
    if (exponent == 0 || step_exponent < 1)
        return -1;
    step = __builtin_bit_cast(float, u32(step_exponent) << 23);
    i32 magnitude = 0;
    // Scalar: SSE2 has no per-lane shift counts, and clang's vector stand-ins for them
    // (float conversions, pmuludq, shuffles) are C helpers under TCG, 10x slower there.
#pragma clang loop vectorize(disable) interleave(disable)
    for (i32 i = 0; i < group; ++i) {
        u32 bits = __builtin_bit_cast(u32, values[i]);
        i32 value_exponent = i32((bits >> 23) & 0xFF);
        u32 value_mantissa = (bits & 0x7FFFFFu) | (value_exponent ? 0x800000u : 0u);
        // w / s = value_mantissa / 2^places (a subnormal's exponent counts as 1).
        i32 places = exponent + shift - rt::max(value_exponent, 1);
        i32 rounded = places > 24 ? 0 : i32((value_mantissa + (1u << (places - 1))) >> places);
        magnitude += rounded;
        q[i] = i8(bits >> 31 ? -rounded : rounded);
    }
    return magnitude;
}

}

bool ScreenedArgmax::can_screen(Tensor const& classifier)
{
    return classifier.type == TensorType::F32 && classifier.cols % group == 0 && classifier.rows > 0;
}

bool ScreenedArgmax::worth_screening(Tensor const& classifier)
{
    return can_screen(classifier) && u64(classifier.rows) * u64(classifier.cols) >= u64(1) << 20;
}

u64 ScreenedArgmax::bytes(Tensor const& classifier)
{
    u64 rows = u64(classifier.rows), cols = u64(classifier.cols);
    // The values and scales; three bounds and a candidate slot per row; the input's int8
    // form; the scratch a repack takes (one group of eight rows).
    return rows * cols + rows * cols / group * sizeof(float) + rows * (3 * sizeof(float) + sizeof(i32)) + cols * (1 + 2 * sizeof(float))
        + 8 * cols * (1 + sizeof(float));
}

rt::ErrorOr<ScreenedArgmax> ScreenedArgmax::create(Tensor const& classifier)
{
    if (!can_screen(classifier))
        return rt::Error::format("screened argmax: the classifier is {} with rows of {} values; it takes F32 rows of a multiple of {}",
            name(classifier.type), classifier.cols, group);
    size_t rows = size_t(classifier.rows), cols = size_t(classifier.cols), groups = cols / group;
    ScreenedArgmax screen;
    screen.m_values = TRY(rt::HeapArray<i8>::allocate(rows * cols));
    screen.m_scales = TRY(rt::HeapArray<float>::allocate(rows * groups));
    screen.m_w1 = TRY(rt::HeapArray<float>::allocate(rows));
    screen.m_w_hat1 = TRY(rt::HeapArray<float>::allocate(rows));
    screen.m_w_error = TRY(rt::HeapArray<float>::allocate(rows));
    screen.m_candidates = TRY(rt::HeapArray<i32>::allocate(rows));
    screen.m_input_q = TRY(rt::HeapArray<i8>::allocate(cols));
    screen.m_input_s = TRY(rt::HeapArray<float>::allocate(groups));
    screen.m_input_sums = TRY(rt::HeapArray<i32>::allocate(groups));

    for (size_t r = 0; r < rows; ++r) {
        i8* q = screen.m_values.data() + r * cols;
        float* s = screen.m_scales.data() + r * groups;
        const float* row = classifier.floats() + r * cols;
        double w_hat1 = 0.0, w_error = 0.0;
        bool bounded = true;
        for (size_t g = 0; g < groups; ++g) {
            i32 magnitude = quantize_weights(row + g * group, q + g * group, s[g]);
            if (magnitude < 0) {
                bounded = false;
                for (size_t i = 0; i < group; ++i)
                    q[g * group + i] = 0;
                s[g] = 0.0f;
                continue;
            }
            w_hat1 += double(s[g]) * double(magnitude);
            w_error = rt::max(w_error, double(s[g]) * quantisation_error);
        }
        // |w|_1 <= |w^|_1 + n max|w - w^|; the doubles' own rounding is far below the
        // margin the float rounding up adds.
        double w1 = w_hat1 + double(cols) * w_error;
        screen.m_w1[r] = bounded ? rounded_up(w1 * (1.0 + 1e-12)) : float(infinity);
        screen.m_w_hat1[r] = bounded ? rounded_up(w_hat1 * (1.0 + 1e-12)) : float(infinity);
        screen.m_w_error[r] = bounded ? rounded_up(w_error) : float(infinity);
    }
    screen.m_copy = { TensorType::Q8, classifier.rows, classifier.cols, reinterpret_cast<const u8*>(screen.m_values.data()), screen.m_scales.data(), group };
    if (can_interleave(screen.m_copy)) {
        auto scratch = TRY(rt::HeapArray<u8>::allocate(scratch_bytes(screen.m_copy)));
        interleave_q8(screen.m_copy, reinterpret_cast<u8*>(screen.m_values.data()), screen.m_scales.data(), { scratch.data(), scratch.size() });
    }
    screen.m_classifier = &classifier;
    return screen;
}

bool ScreenedArgmax::quantize_input(const float* x, InputBounds& bounds)
{
    i32 n = m_classifier->cols;
    if (!all_finite(x, n))
        return false;
    kernels::active().quantize(m_input_q.data(), m_input_s.data(), x, n, group);
    ops::group_sums(m_input_sums.data(), m_input_q.data(), n, group);
    double x_max = 0.0, x_hat_max = 0.0, x_hat1 = 0.0, x_error = 0.0;
    for (i32 g = 0; g < n / group; ++g) {
        float s = m_input_s[size_t(g)];
        if (!normal_or_zero(s))
            return false;
        i32 magnitude = 0;
        for (i32 i = g * group; i < (g + 1) * group; ++i) {
            i8 q = m_input_q[size_t(i)];
            magnitude += q < 0 ? -i32(q) : i32(q);
            x_max = rt::max(x_max, double(__builtin_fabsf(x[i])));
        }
        x_hat1 += double(s) * double(magnitude);
        x_hat_max = rt::max(x_hat_max, double(s) * 127.0);
        x_error = rt::max(x_error, double(s) * quantisation_error);
    }
    double groups = double(n / group);
    bounds.times_w1 = x_error + (double(n) + 2.0) * unit_roundoff * x_max;
    bounds.times_w_error = x_hat1;
    bounds.times_w_hat1 = (groups + 4.0) * unit_roundoff * x_hat_max;
    return true;
}

i32 ScreenedArgmax::full_product(const float* x, float* logits)
{
    ++m_full_products;
    matmul(logits, { x, nullptr, nullptr, nullptr }, *m_classifier);
    return llm::argmax(logits, m_classifier->rows);
}

i32 ScreenedArgmax::argmax(const float* x, float* logits)
{
    ++m_tokens;
    InputBounds input;
    if (!quantize_input(x, input))
        return full_product(x, logits);
    matmul(logits, { x, m_input_q.data(), m_input_s.data(), m_input_sums.data() }, m_copy);

    size_t rows = size_t(m_classifier->rows);
    // The bound of row r, with room for the doubles' rounding of a and of the bound itself.
    auto bound = [&](size_t r, double approximate) {
        if (!(m_w1[r] <= float(largest_float))) // always computed (not: infinity times a zero input)
            return infinity;
        double error = double(m_w1[r]) * input.times_w1 + double(m_w_error[r]) * input.times_w_error + double(m_w_hat1[r]) * input.times_w_hat1;
        return error * (1.0 + 1e-9) + __builtin_fabs(approximate) * 1e-12;
    };
    double best_lower = -infinity;
    for (size_t r = 0; r < rows; ++r) {
        double approximate = double(logits[r]);
        if (!(__builtin_fabs(approximate) <= largest_float)) // the int8 product overflowed
            return full_product(x, logits);
        best_lower = rt::max(best_lower, approximate - bound(r, approximate));
    }
    // Every row that can reach the best lower bound, and every row whose logit could
    // overflow (so that a non-finite logit is found, as in the full product).
    size_t count = 0;
    for (size_t r = 0; r < rows; ++r) {
        double approximate = double(logits[r]);
        double error = bound(r, approximate);
        m_candidates[count] = i32(r);
        count += approximate + error >= best_lower || __builtin_fabs(approximate) + error >= largest_float;
    }
    // Too many to compute one by one on one core (weights whose rows are alike).
    if (count > rows / 16)
        return full_product(x, logits);
    m_exact_rows += count;
    auto rows_of = traits(m_classifier->type).rows;
    MatmulInput floats { x, nullptr, nullptr, nullptr };
    i32 best = -1;
    bool finite = true;
    for (size_t c = 0; c < count; ++c) {
        size_t r = size_t(m_candidates[c]);
        rows_of(logits, floats, *m_classifier, r, r + 1);
        finite = finite && __builtin_fabsf(logits[r]) <= float(largest_float);
        // Candidates come in index order: a strict > keeps the first of equal logits.
        if (best < 0 || logits[r] > logits[size_t(best)])
            best = i32(r);
    }
    return finite ? best : -1;
}

}
