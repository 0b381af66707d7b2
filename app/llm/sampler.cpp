#include "kernels/kernels.h"
#include "sampler.h"

namespace llm {

namespace {

rt::Error not_finite() { return rt::Error::format("the logits hold NaN or infinity (are the model's weights broken?)"); }

// Below this, dividing logits by the temperature overflows to infinity; the distribution
// is then all on the largest logit anyway, which is the greedy choice.
constexpr float min_temperature = 1e-30f;

}

i32 argmax(const float* values, i32 count)
{
    // x * 0 is 0 for every finite x and NaN otherwise: one sum says whether all are finite.
    float poison = 0.0f;
    i32 best = 0;
    for (i32 i = 0; i < count; ++i) {
        poison += values[i] * 0.0f;
        if (values[i] > values[best])
            best = i;
    }
    return poison == 0.0f ? best : -1;
}

rt::ErrorOr<Sampler> Sampler::create(i32 vocab_size, float temperature, float top_p, u64 seed)
{
    Sampler sampler(vocab_size, temperature < min_temperature ? 0.0f : temperature, top_p, seed);
    sampler.m_candidates = TRY(rt::HeapArray<Candidate>::allocate(size_t(vocab_size)));
    sampler.m_sort_scratch = TRY(rt::HeapArray<Candidate>::allocate(size_t(vocab_size)));
    return sampler;
}

rt::ErrorOr<i32> Sampler::sample(float* logits)
{
    if (m_temperature == 0.0f) {
        i32 best = argmax(logits, m_vocab_size);
        if (best < 0)
            return not_finite();
        return best;
    }
    float poison = 0.0f; // as in argmax
    for (i32 i = 0; i < m_vocab_size; ++i) {
        poison += logits[i] * 0.0f;
        logits[i] /= m_temperature;
    }
    if (poison != 0.0f)
        return not_finite();
    kernels::active().softmax(logits, m_vocab_size); // the reference unless tuned
    float coin = m_random.next_float();
    if (m_top_p <= 0.0f || m_top_p >= 1.0f) {
        float cumulative = 0.0f;
        for (i32 i = 0; i < m_vocab_size; ++i) {
            cumulative += logits[i];
            if (coin < cumulative)
                return i;
        }
        return m_vocab_size - 1; // rounding left the total just under 1
    }
    return sample_top_p(logits, coin);
}

i32 Sampler::sample_top_p(const float* probabilities, float coin)
{
    // Tokens below this cannot be in the nucleus; dropping them first keeps the sort small.
    float cutoff = (1.0f - m_top_p) / float(m_vocab_size - 1);
    size_t count = 0;
    for (i32 i = 0; i < m_vocab_size; ++i)
        if (probabilities[i] >= cutoff)
            m_candidates[count++] = { probabilities[i], i };
    if (count == 0) // cannot happen: the largest probability is >= 1/n, and sample() refused NaNs
        return rt::max(argmax(probabilities, m_vocab_size), 0);

    // Stable merge sort, descending: equal probabilities keep index order (as glibc's
    // qsort, a merge sort, does for llama2.c).
    Candidate* source = m_candidates.data();
    Candidate* target = m_sort_scratch.data();
    for (size_t width = 1; width < count; width *= 2) {
        for (size_t start = 0; start < count; start += 2 * width) {
            size_t middle = rt::min(start + width, count), end = rt::min(start + 2 * width, count);
            size_t a = start, b = middle, out = start;
            while (a < middle && b < end)
                target[out++] = source[b].probability > source[a].probability ? source[b++] : source[a++];
            while (a < middle)
                target[out++] = source[a++];
            while (b < end)
                target[out++] = source[b++];
        }
        Candidate* swap = source;
        source = target;
        target = swap;
    }

    float cumulative = 0.0f;
    size_t last = count - 1;
    for (size_t i = 0; i < count; ++i) {
        cumulative += source[i].probability;
        if (cumulative > m_top_p) {
            last = i;
            break;
        }
    }
    float r = coin * cumulative;
    float cdf = 0.0f;
    for (size_t i = 0; i <= last; ++i) {
        cdf += source[i].probability;
        if (r < cdf)
            return source[i].index;
    }
    return source[last].index;
}

}
