#include "kernels/kernels.h"
#include "sampler.h"

namespace llm {

namespace {

rt::Error not_finite() { return rt::Error::format("the logits hold NaN or infinity (are the model's weights broken?)"); }

// Below this, dividing logits by the temperature overflows to infinity; the distribution
// is then all on the largest logit anyway, which is the greedy choice.
constexpr float min_temperature = 1e-30f;

u32 bits_of(float value) { return __builtin_bit_cast(u32, value); }

// The largest value, in eight independent lanes so the compiler can keep them in one vector.
float maximum(const float* values, i32 count)
{
    float lanes[8];
    for (float& lane : lanes)
        lane = values[0];
    i32 i = 0;
    for (; i + 8 <= count; i += 8)
        for (i32 lane = 0; lane < 8; ++lane)
            lanes[lane] = values[i + lane] > lanes[lane] ? values[i + lane] : lanes[lane];
    float best = values[0];
    for (float lane : lanes)
        best = lane > best ? lane : best;
    for (; i < count; ++i)
        best = values[i] > best ? values[i] : best;
    return best;
}


// all_finite(values) and then values[i] /= divisor, in one pass.
bool divide_all_finite(float* values, i32 count, float divisor)
{
    u32 non_finite = 0;
    for (i32 i = 0; i < count; ++i) {
        non_finite |= u32((bits_of(values[i]) & 0x7F800000u) == 0x7F800000u);
        values[i] /= divisor;
    }
    return non_finite == 0;
}

// A floor with at least k of the values (probabilities: 0 to 1) at or above it, and few more:
// the values counted by the top bits of their distance below 1 (a float's bits order
// non-negative floats), 1/64 of an octave a bucket, then buckets taken from the top until
// they hold k. `counts` has room for 8192 buckets.
float top_k_floor(const float* values, i32 count, size_t k, rt::Span<u32> counts)
{
    constexpr u32 one_bits = 0x3F800000u, shift = 17; // 0x3F800000 >> 17 < 8192
    for (u32& slot : counts)
        slot = 0;
    for (i32 i = 0; i < count; ++i) {
        i32 distance = i32(one_bits) - i32(bits_of(values[i]));
        ++counts[u32(distance > 0 ? distance : 0) >> shift];
    }
    size_t kept = 0;
    for (u32 b = 0; b <= (one_bits >> shift); ++b) {
        kept += counts[b];
        if (kept >= k) // the smallest value of bucket b
            return b == (one_bits >> shift) ? 0.0f : __builtin_bit_cast(float, one_bits - ((b + 1) << shift) + 1);
    }
    return 0.0f;
}

}

// Whether every value is finite: NaN and infinity have every exponent bit set. One OR
// over the flags, in a loop the compiler can vectorise (a sum of x * 0 could not be).
bool all_finite(const float* values, i32 count)
{
    u32 non_finite = 0;
    for (i32 i = 0; i < count; ++i)
        non_finite |= u32((bits_of(values[i]) & 0x7F800000u) == 0x7F800000u);
    return non_finite == 0;
}

i32 argmax(const float* values, i32 count)
{
    if (!all_finite(values, count))
        return -1;
    // The largest value in lanes, then its first occurrence: the first maximum, as a
    // running comparison finds it (+0 and -0 compare equal there and here).
    float best = maximum(values, count);
    for (i32 i = 0; i < count; ++i)
        if (values[i] == best)
            return i;
    return 0;
}

rt::ErrorOr<i32> Sampler::greedy_pick(i32 argmax_index)
{
    if (argmax_index < 0)
        return not_finite();
    return argmax_index;
}

rt::ErrorOr<Sampler> Sampler::create(i32 vocab_size, float temperature, float top_p, u64 seed, i32 top_k)
{
    Sampler sampler(vocab_size, temperature, top_p, seed);
    sampler.change(temperature, top_p, top_k);
    sampler.m_candidates = TRY(rt::HeapArray<Candidate>::allocate_zeroed(size_t(vocab_size) + 16)); // select_candidates' room
    sampler.m_sort_scratch = TRY(rt::HeapArray<Candidate>::allocate_zeroed(size_t(vocab_size)));
    sampler.m_histogram = TRY(rt::HeapArray<u32>::allocate_zeroed(3 * 4096));
    sampler.m_sums = TRY(rt::HeapArray<float>::allocate_zeroed(size_t(vocab_size)));
    sampler.m_nucleus = TRY(Nucleus::create(vocab_size));
    return sampler;
}

void Sampler::change(float temperature, float top_p, i32 top_k)
{
    m_temperature = temperature < min_temperature ? 0.0f : temperature;
    m_top_p = top_p;
    m_top_k = top_k > 0 && top_k < m_vocab_size ? top_k : 0;
}

rt::ErrorOr<i32> Sampler::sample(float* logits)
{
    if (m_temperature == 0.0f) {
        i32 best = argmax(logits, m_vocab_size);
        if (best < 0)
            return not_finite();
        return best;
    }
    // x / 1 is x; at other temperatures the logits are checked before a division could make
    // a huge one infinite.
    if (m_temperature != 1.0f && !divide_all_finite(logits, m_vocab_size, m_temperature))
        return not_finite();
    float sum = kernels::active().softmax(logits, m_vocab_size); // the reference unless tuned
    if (sum != sum) // NaN: a logit was not finite
        return not_finite();
    float coin = m_random.next_float();
    if (m_top_k)
        return sample_top_k(logits, coin);
    if (m_top_p <= 0.0f || m_top_p >= 1.0f) {
        float cumulative = 0.0f;
        for (i32 i = 0; i < m_vocab_size; ++i) {
            cumulative += logits[i];
            if (coin < cumulative)
                return i;
        }
        return m_vocab_size - 1; // rounding left the total just under 1
    }
    i32 token = m_nucleus.pick(logits, m_top_p, coin, 1.0f / sum); // softmax's largest probability
    return token >= 0 ? token : rt::max(argmax(logits, m_vocab_size), 0); // no candidate: cannot happen for probabilities
}


// The running sums of sorted[0..] (llama2.c's cumulative probabilities, added in the same
// order) until one passes `limit`, written to sums[]; returns the index of that one, or
// count when none does. `cumulative` gets the last sum.
static size_t running_sums(Candidate const* sorted, float* sums, size_t count, float limit, bool cut, float& cumulative)
{
    float sum = 0.0f;
    for (size_t i = 0; i < count; ++i) {
        sum += sorted[i].probability;
        sums[i] = sum;
        if (cut && sum > limit) {
            cumulative = sum;
            return i;
        }
    }
    cumulative = sum;
    return count;
}

// The token where the running sum of sorted[0..last] first passes r (llama2.c's last step),
// found by bisection in the sums running_sums() wrote (they never decrease).
static i32 pick(Candidate const* sorted, float const* sums, size_t last, float r)
{
    if (!(r < sums[last]))
        return sorted[last].index;
    size_t low = 0, high = last; // the first sum above r lies in [low, high]
    while (low < high) {
        size_t middle = low + (high - low) / 2;
        if (r < sums[middle])
            high = middle;
        else
            low = middle + 1;
    }
    return sorted[low].index;
}

// The k most probable tokens (equal ones in index order), then nucleus sampling among them
// with their probabilities renormalised: llama.cpp's chain of top-k and top-p.
i32 Sampler::sample_top_k(const float* probabilities, float coin)
{
    size_t k = size_t(m_top_k);
    float floor = top_k_floor(probabilities, m_vocab_size, k, m_histogram.span());
    size_t count = kernels::active().select_candidates(probabilities, m_vocab_size, floor, m_candidates.data());
    Candidate* sorted = sort_descending(m_candidates.data(), m_sort_scratch.data(),
        *reinterpret_cast<RadixHistogram*>(m_histogram.data()), count);
    count = rt::min(count, k);
    float kept = 0.0f;
    for (size_t i = 0; i < count; ++i)
        kept += sorted[i].probability;
    bool nucleus = m_top_p > 0.0f && m_top_p < 1.0f;
    float* sums = m_sums.data();
    float cumulative;
    size_t last = running_sums(sorted, sums, count, m_top_p * kept, nucleus, cumulative);
    if (last == count)
        last = count - 1;
    return pick(sorted, sums, last, coin * cumulative);
}

}
