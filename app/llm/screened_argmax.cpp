#include "screened_argmax.h"
#include "interleave.h"
#include "ops.h"
#include "sampler.h"
#include <emmintrin.h>
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
// and ops::quantize's division made the 15M model's copy take 0.9 s there (0.37 s now).
// Returns the sum of |q|, or -1 for a group with NaN or infinity or one so small that s
// would be subnormal.
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
    screen.m_w_error = TRY(rt::HeapArray<float>::allocate(rows));
    screen.m_candidates = TRY(rt::HeapArray<i32>::allocate(rows));
    screen.m_uppers = TRY(rt::HeapArray<float>::allocate(rows));
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
        // |w|_1 <= |w^|_1 + n max|w - w^|, which bounds |w^|_1 too (the int8 product's
        // rounding term uses it); the doubles' own rounding is far below the margin the
        // float rounding up adds.
        double w1 = w_hat1 + double(cols) * w_error;
        screen.m_w1[r] = bounded ? rounded_up(w1 * (1.0 + 1e-12)) : float(infinity);
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
    // The int8 product's rounding term multiplies |w^|_1, at most |w|_1. At least the
    // smallest normal float: an infinite bound times zero would be NaN, not infinite.
    double times_w1 = x_error + (double(n) + 2.0) * unit_roundoff * x_max + (groups + 4.0) * unit_roundoff * x_hat_max;
    bounds.times_w1 = rounded_up(rt::max(times_w1, smallest_normal));
    bounds.times_w_error = rounded_up(rt::max(x_hat1, smallest_normal));
    return true;
}

i32 ScreenedArgmax::full_product(const float* x, float* logits)
{
    ++m_full_products;
    matmul(logits, { x, nullptr, nullptr, nullptr }, *m_classifier);
    return llm::argmax(logits, m_classifier->rows);
}

size_t ScreenedArgmax::screen_rows(const float* logits, InputBounds const& input)
{
    size_t rows = size_t(m_classifier->rows);
    if (!all_finite(logits, i32(rows))) // the int8 product overflowed
        return screened_out;
    // Row r's bound E = |w|_1 times_w1 + max|w - w^| times_w_error, in float: each factor
    // is rounded up, and E (1 + 2^-20) + |a| 2^-21 more than covers the float rounding of
    // E and of a - E and a + E (at most a few 2^-24 of |a| + E).
    float const* w1 = m_w1.data();
    float const* w_error = m_w_error.data();
    __m128 times_w1 = _mm_set1_ps(input.times_w1), times_w_error = _mm_set1_ps(input.times_w_error);
    __m128 inflate = _mm_set1_ps(1.0f + 0x1p-20f), relative = _mm_set1_ps(0x1p-21f);
    __m128 magnitude = _mm_castsi128_ps(_mm_set1_epi32(0x7FFFFFFF));
    auto bounds = [&](__m128 a, size_t r, __m128& lower, __m128& upper, __m128& error) {
        error = _mm_add_ps(_mm_mul_ps(_mm_loadu_ps(w1 + r), times_w1), _mm_mul_ps(_mm_loadu_ps(w_error + r), times_w_error));
        error = _mm_add_ps(_mm_mul_ps(error, inflate), _mm_mul_ps(_mm_and_ps(a, magnitude), relative));
        lower = _mm_sub_ps(a, error);
        upper = _mm_add_ps(a, error);
    };
    // One pass. Each lane keeps the best lower bound of its rows so far (no horizontal step
    // per block), and a row whose upper bound reaches its lane's is kept for now: the final
    // best lower bound, the largest of the lanes', is at least as high, so no row that can
    // reach it is missed. The largest row (largest logit) always reaches it.
    __m128 no_bound = _mm_set1_ps(float(infinity));
    __m128 best = _mm_set1_ps(-float(infinity)), largest_a = _mm_setzero_ps(), largest_error = _mm_setzero_ps();
    size_t count = 0;
    size_t vector_end = rows - rows % 4;
    for (size_t r = 0; r < vector_end; r += 4) {
        __m128 a = _mm_loadu_ps(logits + r), lower, upper, error;
        bounds(a, r, lower, upper, error);
        best = _mm_max_ps(best, lower);
        largest_a = _mm_max_ps(largest_a, _mm_and_ps(a, magnitude));
        // (Rows with an infinite bound are computed anyway.)
        largest_error = _mm_max_ps(largest_error, _mm_and_ps(error, _mm_cmplt_ps(error, no_bound)));
        if (u32 reach = u32(_mm_movemask_ps(_mm_cmpge_ps(upper, best)))) {
            float uppers[4];
            _mm_storeu_ps(uppers, upper);
            for (; reach; reach &= reach - 1) {
                u32 lane = u32(__builtin_ctz(reach));
                m_candidates[count] = i32(r + lane);
                m_uppers[count++] = uppers[lane];
            }
        }
    }
    float lanes[4], a_lanes[4], error_lanes[4];
    _mm_storeu_ps(lanes, best);
    _mm_storeu_ps(a_lanes, largest_a);
    _mm_storeu_ps(error_lanes, largest_error);
    float best_lower = rt::max(rt::max(lanes[0], lanes[1]), rt::max(lanes[2], lanes[3]));
    float most_a = rt::max(rt::max(a_lanes[0], a_lanes[1]), rt::max(a_lanes[2], a_lanes[3]));
    float most_error = rt::max(rt::max(error_lanes[0], error_lanes[1]), rt::max(error_lanes[2], error_lanes[3]));
    // The last rows, one at a time in the first lane (the same float steps).
    for (size_t r = vector_end; r < rows; ++r) {
        float row_w1[4] = { w1[r] }, row_error[4] = { w_error[r] };
        __m128 a = _mm_set_ss(logits[r]), error = _mm_add_ss(_mm_mul_ss(_mm_loadu_ps(row_w1), times_w1), _mm_mul_ss(_mm_loadu_ps(row_error), times_w_error));
        error = _mm_add_ss(_mm_mul_ss(error, inflate), _mm_mul_ss(_mm_and_ps(a, magnitude), relative));
        float e = _mm_cvtss_f32(error), lower = _mm_cvtss_f32(_mm_sub_ss(a, error)), upper = _mm_cvtss_f32(_mm_add_ss(a, error));
        best_lower = rt::max(best_lower, lower);
        most_a = rt::max(most_a, __builtin_fabsf(logits[r]));
        most_error = e < float(infinity) ? rt::max(most_error, e) : most_error;
        m_candidates[count] = i32(r);
        m_uppers[count++] = upper;
    }
    // A logit that could overflow (to either infinity) is found only by the full product.
    if (!(most_a + most_error < float(largest_float) / 4))
        return screened_out;
    // Of the rows kept, those that reach the final best lower bound, in index order.
    size_t kept = 0;
    for (size_t c = 0; c < count; ++c)
        if (m_uppers[c] >= best_lower)
            m_candidates[kept++] = m_candidates[c];
    return kept;
}

i32 ScreenedArgmax::argmax(const float* x, float* logits)
{
    ++m_tokens;
    InputBounds input;
    if (!quantize_input(x, input))
        return full_product(x, logits);
    matmul(logits, { x, m_input_q.data(), m_input_s.data(), m_input_sums.data() }, m_copy);

    size_t count = screen_rows(logits, input);
    if (count == screened_out)
        return full_product(x, logits);
    // Too many to compute one by one on one core (weights whose rows are alike).
    if (count > size_t(m_classifier->rows) / 16)
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
