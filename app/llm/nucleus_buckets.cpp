// The nucleus's candidates counted into buckets by the bits of their probability and
// placed bucket after bucket (nucleus.h says why and how they are then added up).
#include "nucleus.h"
#include "kernels/kernels.h"
#include "lane_masks.h"
#include "nucleus_bits.h"
#include <emmintrin.h>

namespace llm {

using namespace nucleus_bits;
using lane_masks::bits_set;

namespace {

// Buckets of more tokens than this are radix-sorted rather than by insertion.
constexpr u32 insertion_limit = 48;

// `kept ? a : b` in bit operations: a branch there would be mispredicted often.
u32 select(bool kept, u32 a, u32 b)
{
    u32 mask = 0u - u32(kept);
    return (a & mask) | (b & ~mask);
}

// Which of the 16 values at `block` are at or above `floor`, as a mask.
u32 candidates(const float* block, float floor)
{
    __m128 threshold = _mm_set1_ps(floor);
    u32 mask = 0;
    for (i32 v = 0; v < 4; ++v)
        mask |= u32(_mm_movemask_ps(_mm_cmpge_ps(_mm_loadu_ps(block + 4 * v), threshold))) << (4 * v);
    return mask;
}

// handle(i + l, kept) for the tokens of a block of 16 whose bits l are set in `mask`: in a
// full block, for all 16 (kept true); in a dense one, for all 16 without a branch (kept says
// which count); in a sparse one only for those, by their bits (kept true).
template<typename Handle>
void for_each_candidate(i32 i, u32 mask, Handle&& handle)
{
    if (mask == 0xFFFF) { // all 16 (most blocks of a flat distribution): no mask to apply
        for (i32 l = 0; l < 16; ++l)
            handle(i + l, true);
        return;
    }
    if (bits_set(mask) >= 8) {
        for (i32 l = 0; l < 16; ++l)
            handle(i + l, (mask >> l) & 1);
        return;
    }
    for (; mask; mask &= mask - 1)
        handle(i + __builtin_ctz(mask), true);
}

}

rt::ErrorOr<Nucleus> Nucleus::create(i32 vocab_size)
{
    // Zeroed: a hosted build's first pick would otherwise take the page faults of these
    // arrays (~1 ms, the time of a dozen picks).
    Nucleus nucleus;
    nucleus.m_vocab_size = vocab_size;
    size_t buckets = max_buckets + 8; // and those for the tokens not kept
    nucleus.m_counts = TRY(rt::HeapArray<u32>::allocate_zeroed(buckets));
    nucleus.m_starts = TRY(rt::HeapArray<u32>::allocate_zeroed(buckets));
    nucleus.m_bucket_of = TRY(rt::HeapArray<u16>::allocate_zeroed(size_t(vocab_size)));
    nucleus.m_tokens = TRY(rt::HeapArray<float>::allocate_zeroed(size_t(vocab_size) + 8));
    nucleus.m_masks = TRY(rt::HeapArray<u16>::allocate_zeroed(size_t(vocab_size) / 16 + 1));
    nucleus.m_selected = TRY(rt::HeapArray<Candidate>::allocate_zeroed(size_t(vocab_size) + 16)); // select_candidates' room
    nucleus.m_run_first = TRY(rt::HeapArray<u32>::allocate_zeroed(max_buckets + 1));
    nucleus.m_run_sums = TRY(rt::HeapArray<float>::allocate_zeroed(max_buckets + 1));
    nucleus.m_run_sorted = TRY(rt::HeapArray<bool>::allocate_zeroed(max_buckets + 1));
    nucleus.m_large_scratch = TRY(rt::HeapArray<float>::allocate_zeroed(size_t(vocab_size)));
    nucleus.m_histogram = TRY(rt::HeapArray<u32>::allocate_zeroed(3 * 4096));
    nucleus.m_tail = TRY(NucleusTail::create(vocab_size));
    return nucleus;
}

// The buckets from 1 down to `cutoff` (how many: m_shift chosen so that they are at most
// max_buckets), their counts zeroed.
u32 Nucleus::empty_buckets(float cutoff, float largest)
{
    u32 span = one_bits - bits_of(cutoff);
    m_shift = 0;
    while ((span >> m_shift) >= max_buckets)
        ++m_shift;
    u32 buckets = (span >> m_shift) + 1;
    m_first_bucket = rt::min((one_bits - rt::min(bits_of(largest), one_bits)) >> m_shift, buckets - 1);
    for (u32 b = m_first_bucket; b < buckets; ++b)
        m_counts[b] = 0;
    return buckets;
}

// The tokens at or above `floor` (above the cutoff: the top of a peaked distribution, a
// few hundred tokens), in index order, into m_selected by the kernels' select_candidates,
// then their buckets counted; returns how many were selected. For a selection this small,
// one vectorised pass over the probabilities and loops over the few selected cost less
// than count_tokens's and place_tokens's passes with their tests and branches per block
// of 16 (bareflow-sampler-bench, peaked logits: 47 -> 33 us a pick). Not for every
// candidate of a flat distribution: a list of ~30,000 written into the cold caches after a
// forward pass cost more than it saved (the random 15M run's sampling probe, ~109 -> ~138 us).
u32 Nucleus::select_and_count(const float* probabilities, float floor)
{
    u32 selected = u32(kernels::active().select_candidates(probabilities, m_vocab_size, floor, m_selected.data()));
    count_selected(m_selected.data(), selected);
    return selected;
}

template<typename Token>
void Nucleus::count_selected(Token const* tokens, u32 selected)
{
    u32* counts = m_counts.data();
    u16* bucket_of = m_bucket_of.data();
    u32 shift = m_shift; // a local: the counts' stores could alias the member, reloaded after each
    for (u32 j = 0; j < selected; ++j) {
        i32 distance = i32(one_bits) - __builtin_bit_cast(i32, probability_of(tokens[j]));
        u32 b = u32(distance > 0 ? distance : 0) >> shift;
        bucket_of[j] = u16(b);
        ++counts[b];
    }
}

// The candidates' buckets (of those at or above `floor`), counted. Blocks of 16 are tested and their buckets computed in
// SSE2 vectors (every build has SSE2); in a block of candidates only (a flat distribution's)
// every token is counted without a branch, in others (most, for the peaked distributions of
// trained models) only the candidates, by their bits in a mask. A token's bucket is
// bits(1) - bits(p), as signed integers (non-negative floats' order; SSE2 compares no
// others), 0 for p above 1 (not a probability), shifted.
u32 Nucleus::count_tokens(const float* probabilities, float cutoff, float floor)
{
    u32 buckets = empty_buckets(cutoff);
    u32* counts = m_counts.data();
    u16* bucket_of = m_bucket_of.data();
    i32 n = m_vocab_size;
    i32 block_end = n - n % 16;
    __m128i one = _mm_set1_epi32(i32(one_bits)), zero = _mm_setzero_si128();
    __m128i shift = _mm_cvtsi32_si128(i32(m_shift));
    // Tokens not kept in a dense block are counted in extra buckets (one per lane of 8, so
    // that their increments do not wait for one another), never read. The buckets are
    // counted from the vector that computed them, or from the token's bits: not read back
    // from their store, still in flight (a slow forward).
    //
    // After a forward pass (tens of megabytes of weights) the caches hold none of the places
    // the candidates go to; place_tokens writes them in an order no prefetcher follows, and
    // would wait for memory at almost every one. So they are prefetched here, in order, as
    // far as the candidates counted so far reach (a block's 16 fill at most a line of 64
    // bytes): place_tokens then finds them in the cache.
    u16* masks = m_masks.data();
    char const* places = reinterpret_cast<char const*>(m_tokens.data());
    u32 counted = 0;
    for (i32 i = 0; i < block_end; i += 16) {
        u32 mask = candidates(probabilities + i, floor);
        masks[i / 16] = u16(mask);
        if (!mask)
            continue;
        u32 kept = bits_set(mask);
        _mm_prefetch(places + sizeof(float) * counted, _MM_HINT_T0);
        counted += kept;
        bool dense = kept >= 8;
        __m128i ids[4];
        for (i32 v = 0; v < 4; ++v) {
            __m128i distance = _mm_sub_epi32(one, _mm_loadu_si128(reinterpret_cast<const __m128i*>(probabilities + i + 4 * v)));
            distance = _mm_and_si128(distance, _mm_cmpgt_epi32(distance, zero));
            ids[v] = _mm_srl_epi32(distance, shift);
        }
        // Buckets are below 2^15: packed to 16 bits, half the bytes to write and read back.
        _mm_storeu_si128(reinterpret_cast<__m128i*>(bucket_of + i), _mm_packs_epi32(ids[0], ids[1]));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(bucket_of + i + 8), _mm_packs_epi32(ids[2], ids[3]));
        for (i32 v = 0; v < 4; ++v) {
            __m128i ids_v = ids[v];
            if (kept == 16) // no mask to apply
                for (i32 l = 0; l < 4; ++l, ids_v = _mm_srli_si128(ids_v, 4))
                    ++counts[u32(_mm_cvtsi128_si32(ids_v))];
            else if (dense)
                for (i32 l = 0; l < 4; ++l, ids_v = _mm_srli_si128(ids_v, 4))
                    ++counts[select((mask >> (4 * v + l)) & 1, u32(_mm_cvtsi128_si32(ids_v)), max_buckets + u32(l))];
        }
        if (!dense)
            for (; mask; mask &= mask - 1) {
                i32 at = i + __builtin_ctz(mask);
                i32 distance = i32(one_bits) - __builtin_bit_cast(i32, probabilities[at]);
                ++counts[u32(distance > 0 ? distance : 0) >> m_shift];
            }
    }
    for (i32 i = block_end; i < n; ++i)
        if (probabilities[i] >= floor) {
            u32 bits = bits_of(probabilities[i]);
            bucket_of[i] = u16((bits < one_bits ? one_bits - bits : 0) >> m_shift);
            ++counts[bucket_of[i]];
        }
    return buckets;
}

// The buckets that can hold the nucleus: those up to the first where the least their tokens
// can add up to (each at its bucket's lower bound) passes top_p by more than the rounding of
// a float sum of the vocabulary's length can take off.
u32 Nucleus::nucleus_buckets(u32 buckets, float cutoff, float top_p) const
{
    double shrink = 1.0 - double(m_vocab_size + 2) * 0x1p-24;
    if (shrink <= 0.5)
        return buckets;
    double least = 0.0, needed = double(top_p) / shrink;
    for (u32 b = m_first_bucket; b + 1 < buckets; ++b) {
        least += double(m_counts[b]) * double(rt::max(float_of(one_bits - ((b + 1) << m_shift)), cutoff));
        if (least > needed)
            return b + 1;
    }
    return buckets;
}

// The candidates of buckets [0, placed) in their buckets, each bucket's in index order (the
// tokens at or above `floor`, the smallest value those buckets take).
void Nucleus::place_tokens(const float* probabilities, u32 buckets, float floor)
{
    u32 const* counts = m_counts.data();
    u32* next = m_starts.data(); // where the next candidate of each bucket goes
    u32 offset = 0;
    for (u32 b = m_first_bucket; b < buckets; ++b) {
        next[b] = offset;
        offset += counts[b];
    }
    u16 const* bucket_of = m_bucket_of.data();
    float* tokens = m_tokens.data();
    // Tokens not kept in a dense block are written to slots after the candidates (one per
    // lane of 8, so that they do not wait for one another), never read.
    for (u32 lane = 0; lane < 8; ++lane)
        next[max_buckets + lane] = u32(m_vocab_size) + lane;
    auto place = [=](i32 i, bool kept) {
        u32 b = select(kept, bucket_of[i], max_buckets + u32(i) % 8);
        u32 at = next[b];
        tokens[at] = probabilities[i];
        next[b] = at + kept;
    };
    i32 n = m_vocab_size;
    i32 block_end = n - n % 16;
    u16 const* masks = m_masks.data();
    for (i32 i = 0; i < block_end; i += 16)
        if (u32 mask = masks[i / 16] ? candidates(probabilities + i, floor) : 0)
            for_each_candidate(i, mask, place);
    for (i32 i = block_end; i < n; ++i)
        if (probabilities[i] >= floor)
            place(i, true);
    for (u32 b = m_first_bucket; b < buckets; ++b) // back to where each bucket begins
        next[b] -= counts[b];
}

// place_tokens for a selection (select_and_count's, the tail's): its tokens at or above `lowest`.
template<typename Token>
void Nucleus::place_selected(Token const* from, u32 selected, u32 buckets, float lowest)
{
    u32* next = m_starts.data();
    u32 offset = 0;
    for (u32 b = m_first_bucket; b < buckets; ++b) {
        next[b] = offset;
        offset += m_counts[b];
    }
    u16 const* bucket_of = m_bucket_of.data();
    float* tokens = m_tokens.data();
    for (u32 j = 0; j < selected; ++j)
        if (probability_of(from[j]) >= lowest)
            tokens[next[bucket_of[j]]++] = probability_of(from[j]);
    for (u32 b = m_first_bucket; b < buckets; ++b) // back to where each bucket begins
        next[b] -= m_counts[b];
}

// Sorts one bucket's tokens (insertion for the few a bucket usually holds, radix for more).
void Nucleus::sort_bucket(u32 bucket)
{
    u32 count = m_counts[bucket];
    float* tokens = m_tokens.data() + m_starts[bucket];
    if (count <= insertion_limit) {
        insertion_sort(tokens, count);
        return;
    }
    float* sorted = sort_descending(tokens, m_large_scratch.data(), *reinterpret_cast<RadixHistogram*>(m_histogram.data()), count);
    if (sorted != tokens)
        for (u32 i = 0; i < count; ++i)
            tokens[i] = sorted[i];
}

template void Nucleus::count_selected(Candidate const*, u32);
template void Nucleus::count_selected(float const*, u32);
template void Nucleus::place_selected(Candidate const*, u32, u32, float);
template void Nucleus::place_selected(float const*, u32, u32, float);

}
