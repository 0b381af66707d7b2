// The nucleus's tail counted into bins of one width and added up bin by bin (nucleus_tail.h
// says why that is exact).
#include "nucleus_tail.h"
#include "nucleus_bits.h"
#include "kernels/kernels.h"
#include <emmintrin.h>
#include <rt/utility.h>

namespace llm {

using namespace nucleus_bits;

namespace {

// 2^14 bins: their counts (64 KB) stay in the second-level cache, and on a random model's flat
// distribution the tokens above the threshold they allow (2^14 widths) are under 2,000.
constexpr u32 bins = 1u << tail_bin_bits, spare_bins = 8;
// The sums the tail may start from: 2^-1 down to 2^-8 (the bin width follows: 2^(e - 24)).
constexpr i32 highest_exponent = -1, lowest_exponent = -8;
// Exact multiples of the bin width listed one by one (about one tail token in a thousand on
// a random model's flat distribution); more, and the buckets take every candidate instead.
constexpr u32 most_exact = 256;
// One block of 16 tokens in this many is read to estimate where the threshold goes.
constexpr i32 sample_stride = 16;
// The sampled mass above the threshold must promise this much more than the least sum.
constexpr float sample_margin = 1.25f;
// Bins added at once while the sum stays in its binade.
constexpr u32 block_bins = 64;
constexpr u32 insertion_limit = 48;

float power_of_two(i32 exponent) { return float_of(u32(127 + exponent) << mantissa_bits); }

// A positive normal float's exponent field, and its value in ulps (its significand).
u32 exponent_field(float value) { return bits_of(value) >> mantissa_bits; }
u64 in_ulps(float value) { return (bits_of(value) & (implicit_one - 1)) | implicit_one; }
float from_ulps(u32 field, u64 ulps) { return float_of((field << mantissa_bits) | u32(ulps - implicit_one)); }

}

rt::ErrorOr<NucleusTail> NucleusTail::create(i32 vocab_size)
{
    NucleusTail tail;
    tail.m_vocab_size = vocab_size;
    tail.m_bins = TRY(rt::HeapArray<u16>::allocate_zeroed(size_t(vocab_size)));
    tail.m_above = TRY(rt::HeapArray<float>::allocate_zeroed(size_t(vocab_size) + 16)); // bin_tail's room
    tail.m_counts = TRY(rt::HeapArray<u32>::allocate_zeroed(bins + spare_bins));
    tail.m_exact = TRY(rt::HeapArray<u32>::allocate_zeroed(most_exact));
    tail.m_exact_index = TRY(rt::HeapArray<u32>::allocate_zeroed(most_exact));
    tail.m_blocks = TRY(rt::HeapArray<Walk>::allocate_zeroed(bins / block_bins + 1));
    tail.m_bin_tokens = TRY(rt::HeapArray<Candidate>::allocate_zeroed(size_t(vocab_size) + 4));
    tail.m_bin_scratch = TRY(rt::HeapArray<Candidate>::allocate_zeroed(size_t(vocab_size)));
    tail.m_histogram = TRY(rt::HeapArray<u32>::allocate_zeroed(3 * 4096));
    return tail;
}

// The sampled tokens' mass by binade (four partial sums each, so that consecutive tokens of
// one binade do not wait for one another), then the highest threshold 2^(e - 10) whose
// tokens above promise a sum of 2^e: the bins, 2^14 of width 2^(e - 24), then reach it.
bool NucleusTail::plan(const float* probabilities, float cutoff)
{
    constexpr i32 block = 16;
    static_assert(tail_bin_bits == 14, "the threshold is 2^14 bin widths");
    if (m_vocab_size < block * sample_stride * 16)
        return false; // too few to sample, and the buckets' passes are short anyway
    float mass[4][128] = {};
    for (i32 i = 0; i + block <= m_vocab_size; i += block * sample_stride)
        for (i32 l = 0; l < block; ++l) {
            float p = probabilities[i + l];
            mass[l % 4][rt::min(exponent_field(p), 127u)] += p;
        }
    float above = 0.0f;
    u32 field = 127;
    for (i32 e = highest_exponent; e >= lowest_exponent; --e) {
        u32 threshold_field = u32(127 + e - 10);
        for (; field >= threshold_field; --field)
            above += mass[0][field] + mass[1][field] + mass[2][field] + mass[3][field];
        if (above * float(sample_stride) >= sample_margin * power_of_two(e)) {
            m_cutoff = cutoff;
            m_threshold = power_of_two(e - 10);
            m_least_sum = power_of_two(e);
            m_width = power_of_two(e - 24);
            if (!(m_threshold > cutoff))
                return false; // no tail
            m_lowest_bin = u32(cutoff / m_width); // cutoff < threshold: below 2^14
            return true;
        }
    }
    return false;
}

u32 NucleusTail::bin(const float* probabilities, float cutoff)
{
    TailBinning out { m_bins.data(), m_above.data(), m_exact_index.data(), most_exact };
    kernels::active().bin_tail(probabilities, m_vocab_size, cutoff, m_threshold, 1.0f / m_width, out);
    m_exact_count = out.exact_count;
    if (m_exact_count > most_exact)
        return ~0u;
    for (u32 i = 0; i < m_exact_count; ++i)
        m_exact[i] = u32(probabilities[m_exact_index[i]] / m_width);
    return out.above_count;
}

// One increment per token (those outside the tail into the spare bins), then the exact
// tokens' bins in descending order, as the bins are walked (insertion: the list is short).
bool NucleusTail::count()
{
    u32* counts = m_counts.data();
    for (u32 b = m_lowest_bin & ~(block_bins - 1); b < bins + spare_bins; ++b)
        counts[b] = 0;
    u16 const* token_bins = m_bins.data();
    for (i32 i = 0; i < m_vocab_size; ++i)
        ++counts[token_bins[i]];
    u32* exact = m_exact.data();
    for (u32 i = 1; i < m_exact_count; ++i) {
        u32 bin = exact[i], j = i;
        for (; j > 0 && exact[j - 1] < bin; --j)
            exact[j] = exact[j - 1];
        exact[j] = bin;
    }
    u32 outside = 0;
    for (u32 b = bins; b < bins + spare_bins; ++b)
        outside += counts[b];
    return outside < u32(m_vocab_size) || m_exact_count;
}

// Adds `copies` copies of `value` (below the sum, which is at least 2^-126) to `sum` one after
// the other, as llama2.c's loop would, and stops at the first whose sum passes `limit`
// (included in `sum` then). While the sum stays in one binade every copy adds the same number of
// ulps, once the rounding of a tie has made the sum even (after one copy): so after two
// copies in one binade, the rest up to the binade's end or the limit are added at once.
NucleusTail::Added NucleusTail::add_copies(float& sum, float value, u32 copies, float limit) const
{
    u32 added = 0;
    bool in_binade_before = false;
    while (added < copies) {
        float next = sum + value;
        if (next > limit) {
            sum = next;
            return { added, true };
        }
        bool in_binade = exponent_field(next) == exponent_field(sum);
        float step = next - sum; // exact: value <= sum
        sum = next;
        ++added;
        if (!(in_binade && in_binade_before) || added == copies) {
            in_binade_before = in_binade;
            continue;
        }
        // The copies that keep the sum below its binade's end and at or below the limit.
        u32 field = exponent_field(sum);
        float per_ulp = float_of((277 - field) << mantissa_bits); // 1 / ulp: 2^(150 - field)
        u64 ulps = in_ulps(sum), step_ulps = u64(step * per_ulp);
        u64 more = copies - added;
        if (step_ulps) {
            double limit_ulps = double(limit) * double(per_ulp); // exact: a power of two apart
            u64 room = rt::min(2 * u64(implicit_one) - 1, limit_ulps >= 0x1p62 ? ~u64(0) : u64(limit_ulps)) - ulps;
            more = rt::min(more, room / step_ulps);
        }
        sum = from_ulps(field, ulps + more * step_ulps);
        added += u32(more);
        in_binade_before = false; // the next copy is tested one by one
    }
    return { added, false };
}

// The ulps a block's inexact tokens add while the sum's ulp is 2^j widths: each of bin k adds
// (k + 2^(j-1)) >> j, below 2^13. The counts go to 16 bits and pmaddwd multiplies and adds them
// in pairs; ~0u when a count does not fit (the caller then goes bin by bin). The total is
// below 2^32: a token's units are below 2^13, and the vocabulary below 2^19.
u32 NucleusTail::block_units(u32 begin, u32 j) const
{
    u32 const* counts = m_counts.data() + begin;
    __m128i bin = _mm_add_epi16(_mm_set1_epi16(i16(begin + (1u << (j - 1)))), _mm_setr_epi16(0, 1, 2, 3, 4, 5, 6, 7));
    __m128i shift = _mm_cvtsi32_si128(i32(j)), eight = _mm_set1_epi16(8);
    __m128i sums = _mm_setzero_si128(), all = _mm_setzero_si128();
    for (u32 i = 0; i < block_bins; i += 8) {
        __m128i low = _mm_loadu_si128(reinterpret_cast<const __m128i*>(counts + i));
        __m128i high = _mm_loadu_si128(reinterpret_cast<const __m128i*>(counts + i + 4));
        all = _mm_or_si128(all, _mm_or_si128(low, high));
        sums = _mm_add_epi32(sums, _mm_madd_epi16(_mm_packs_epi32(low, high), _mm_srl_epi16(bin, shift)));
        bin = _mm_add_epi16(bin, eight);
    }
    if (_mm_movemask_epi8(_mm_cmpeq_epi32(_mm_srli_epi32(all, 15), _mm_setzero_si128())) != 0xFFFF)
        return ~0u;
    sums = _mm_add_epi32(sums, _mm_shuffle_epi32(sums, 0x4E));
    sums = _mm_add_epi32(sums, _mm_shuffle_epi32(sums, 0xB1));
    return u32(_mm_cvtsi128_si32(sums));
}

// Bin by bin, downwards from at.end to `begin`: a bin's inexact tokens ((k + 1/2) * w stands
// for each) at once where the sum stays in its binade, else copy by copy; then its exact ones.
NucleusTail::Stop NucleusTail::walk_block(Walk& at, u32 begin, float limit) const
{
    u32 const* counts = m_counts.data();
    i32 width_exponent = i32(exponent_field(m_width)) - 127;
    for (u32 k = at.end; k-- > begin;) {
        u32 inexact = counts[k], exact = 0;
        for (; at.next_exact < m_exact_count && m_exact[at.next_exact] == k; ++at.next_exact)
            ++exact;
        if (inexact) {
            u32 field = exponent_field(at.sum);
            u32 j = u32(i32(field) - 150 - width_exponent);
            u64 total = in_ulps(at.sum) + u64(inexact) * ((k + (1u << (j - 1))) >> j);
            float after = total < 2 * u64(implicit_one) ? from_ulps(field, total) : 0.0f;
            if (after > 0.0f && !(after > limit)) {
                at.sum = after;
            } else {
                auto added = add_copies(at.sum, float(2 * k + 1) * (m_width * 0.5f), inexact, limit);
                if (added.passed)
                    return { at.sum, { k, added.copies }, true };
            }
        }
        if (exact) {
            auto added = add_copies(at.sum, float(k) * m_width, exact, limit);
            if (added.passed)
                return { at.sum, { k, inexact + added.copies }, true };
        }
    }
    at.end = begin;
    return { at.sum, { 0, 0 }, false };
}

// Blocks of bins downwards: a block without exact tokens at once where the sum stays in its
// binade and at or below the limit (see nucleus_tail.h), others bin by bin.
NucleusTail::Stop NucleusTail::walk(Walk at, float limit, bool record)
{
    i32 width_exponent = i32(exponent_field(m_width)) - 127;
    u32 lowest = m_lowest_bin & ~(block_bins - 1);
    while (at.end > lowest) {
        u32 begin = at.end - block_bins;
        if (record)
            m_blocks[m_block_count++] = at;
        // Exact tokens add what inexact ones of their bin do (round(k / 2^j) ulps), unless one
        // lies halfway (k = 2^(j-1) modulo 2^j: its rounding depends on the sum).
        u32 field = exponent_field(at.sum);
        u32 j = u32(i32(field) - 150 - width_exponent), half = 1u << (j - 1);
        u32 inexact = block_units(begin, j), next_exact = at.next_exact;
        u64 units = inexact;
        bool halfway = false;
        for (; next_exact < m_exact_count && m_exact[next_exact] >= begin; ++next_exact) {
            u32 k = m_exact[next_exact];
            halfway = halfway || ((k + half) & ((2u << (j - 1)) - 1)) == 0;
            units += (k + half) >> j;
        }
        u64 total = in_ulps(at.sum) + units;
        if (inexact != ~0u && !halfway && total < 2 * u64(implicit_one)) {
            float after = from_ulps(field, total);
            if (!(after > limit)) {
                at.sum = after;
                at.end = begin;
                at.next_exact = next_exact;
                continue;
            }
        }
        Stop stop = walk_block(at, begin, limit);
        if (stop.passed)
            return stop;
    }
    return { at.sum, { 0, 0 }, false };
}

NucleusTail::Stop NucleusTail::first_passing(float sum, float limit)
{
    m_block_count = 0;
    return walk({ bins, sum, 0 }, limit, true);
}

NucleusTail::Stop NucleusTail::first_passing_again(float limit)
{
    u32 low = 0, high = m_block_count; // the last block whose sum is at or below the limit
    while (high - low > 1) {
        u32 middle = (low + high) / 2;
        if (m_blocks[middle].sum > limit)
            high = middle;
        else
            low = middle;
    }
    return walk(m_blocks[low], limit, false);
}

// The lowest bin that holds a token (exact ones are listed descending: the last is the
// lowest), and its last token.
NucleusTail::Place NucleusTail::last_place() const
{
    u32 lowest_exact = m_exact_count ? m_exact[m_exact_count - 1] : bins;
    u32 b = m_lowest_bin;
    while (b < lowest_exact && !m_counts[b])
        ++b;
    u32 exact = 0;
    for (u32 i = m_exact_count; i-- > 0 && m_exact[i] == b;)
        ++exact;
    return { b, m_counts[b] + exact - 1 };
}

// The bin's tokens: its inexact ones by their bins (eight compared at once), its exact ones
// from their list; sorted as llama2.c sorts them, the one at `place.rank`.
i32 NucleusTail::token_at(const float* probabilities, Place place)
{
    Candidate* tokens = m_bin_tokens.data();
    u32 count = 0;
    u16 const* token_bins = m_bins.data();
    __m128i wanted = _mm_set1_epi16(i16(place.bin));
    i32 n = m_vocab_size, block_end = n - n % 8;
    for (i32 i = 0; i < block_end; i += 8) {
        u32 mask = u32(_mm_movemask_epi8(_mm_cmpeq_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(token_bins + i)), wanted)));
        for (; mask; mask &= ~(3u << __builtin_ctz(mask))) { // two bits a token
            i32 at = i + i32(__builtin_ctz(mask) / 2);
            tokens[count++] = { probabilities[at], at };
        }
    }
    for (i32 i = block_end; i < n; ++i)
        if (token_bins[i] == place.bin)
            tokens[count++] = { probabilities[i], i };
    for (u32 e = 0; e < m_exact_count; ++e)
        if (u32(probabilities[m_exact_index[e]] / m_width) == place.bin)
            tokens[count++] = { probabilities[m_exact_index[e]], i32(m_exact_index[e]) };
    if (place.rank >= count)
        return -1; // not reached: the bins counted these tokens
    Candidate* sorted = count <= insertion_limit
        ? (insertion_sort(tokens, count), tokens)
        : sort_descending(tokens, m_bin_scratch.data(), *reinterpret_cast<RadixHistogram*>(m_histogram.data()), count);
    return sorted[place.rank].index;
}

}
