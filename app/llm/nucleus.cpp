#include "nucleus.h"
#include "kernels/kernels.h"
#include <emmintrin.h>
#include <rt/utility.h>

namespace llm {

namespace {

u32 bits_of(float value) { return __builtin_bit_cast(u32, value); }
float float_of(u32 bits) { return __builtin_bit_cast(float, bits); }

constexpr u32 one_bits = 0x3F800000u; // 1.0f
constexpr u32 mantissa_bits = 23;
constexpr u32 implicit_one = 1u << mantissa_bits;

// At most this many buckets: enough that a flat distribution puts a few dozen tokens in
// each (the ones sorted by insertion), few enough that counting them stays cheap.
constexpr u32 max_buckets = 4096;
static_assert(max_buckets + 8 <= 0x7FFF, "bucket numbers are packed to 16 bits, with signed saturation");
static_assert(sizeof(Candidate) == 8 && __builtin_offsetof(Candidate, index) == 4, "candidates are placed as one 8-byte store");
// Buckets of more tokens than this are radix-sorted rather than by insertion.
constexpr u32 insertion_limit = 48;

// `kept ? a : b` in bit operations: a branch there would be mispredicted often.
u32 select(bool kept, u32 a, u32 b)
{
    u32 mask = 0u - u32(kept);
    return (a & mask) | (b & ~mask);
}

// The largest of the values (finite), in four SSE2 vectors (one would wait for each maximum
// before the next).
float largest(const float* values, i32 count)
{
    i32 vector_end = count - count % 16;
    __m128 lanes[4];
    for (__m128& lane : lanes)
        lane = _mm_set1_ps(values[0]);
    for (i32 i = 0; i < vector_end; i += 16)
        for (i32 v = 0; v < 4; ++v)
            lanes[v] = _mm_max_ps(lanes[v], _mm_loadu_ps(values + i + 4 * v));
    float lane[4];
    _mm_storeu_ps(lane, _mm_max_ps(_mm_max_ps(lanes[0], lanes[1]), _mm_max_ps(lanes[2], lanes[3])));
    float best = rt::max(rt::max(lane[0], lane[1]), rt::max(lane[2], lane[3]));
    for (i32 i = vector_end; i < count; ++i)
        best = rt::max(best, values[i]);
    return best;
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

// The number of bits set in a block's mask of 16 (a table: the builds target CPUs without
// a population count instruction, and the compiler's replacement costs a dozen).
struct BitCounts {
    u8 of_byte[256];
    constexpr BitCounts() : of_byte {}
    {
        for (u32 b = 1; b < 256; ++b)
            of_byte[b] = u8(of_byte[b / 2] + (b & 1));
    }
};
constexpr BitCounts bit_counts;
u32 bits_set(u32 mask) { return bit_counts.of_byte[mask & 0xFF] + bit_counts.of_byte[(mask >> 8) & 0xFF]; }

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

// What a run of tokens adds to a running sum whose ulp is u: the integer sum of their
// probabilities over u, each rounded to the nearest integer, or where the first one lies
// exactly halfway (its rounding then depends on the sum). `shifter` is 1.5 * 2^23 * u: adding
// a p of at most 2^22 * u keeps the result in the shifter's binade, where the ulp is u, so
// the addition rounds p to a multiple of u and the bits above the shifter's count them.
// Blocks of 256 keep the 32-bit sums from overflowing (each term is at most 2^22); the loop
// stops once `limit` is reached (the run would leave the sum's binade).
struct RoundedSum {
    u64 units;      // of the tokens before the first halfway one
    u32 halfway_at; // the count when none is
};
RoundedSum rounded_sum(Candidate const* tokens, u32 count, float shifter, u64 limit)
{
    u32 base = bits_of(shifter);
    float half_ulp = (shifter / 12582912.0f) * 0.5f; // exact: powers of two
    auto halfway = [=](float value) {
        float rest = value - ((value + shifter) - shifter); // exact: |rest| <= u / 2
        return rest == half_ulp || rest == -half_ulp;
    };
    auto units_of = [=](float value) { return bits_of(value + shifter) - base; };
    // Four tokens' probabilities at a time (the even floats of 8), in SSE2 vectors.
    __m128 shifters = _mm_set1_ps(shifter), halves = _mm_set1_ps(half_ulp), minus_halves = _mm_set1_ps(-half_ulp);
    __m128i bases = _mm_set1_epi32(i32(base));
    auto four = [](Candidate const* at) {
        __m128 low = _mm_loadu_ps(&at[0].probability), high = _mm_loadu_ps(&at[2].probability);
        return _mm_shuffle_ps(low, high, _MM_SHUFFLE(2, 0, 2, 0));
    };
    RoundedSum result { 0, count };
    for (u32 begin = 0; begin < count && result.units < limit; begin += 256) {
        u32 end = begin + 256 < count ? begin + 256 : count;
        u32 vector_end = begin + (end - begin) / 4 * 4;
        __m128i units = _mm_setzero_si128();
        __m128 any_halfway = _mm_setzero_ps();
        for (u32 i = begin; i < vector_end; i += 4) {
            __m128 p = four(tokens + i);
            __m128 rounded = _mm_add_ps(p, shifters);
            units = _mm_add_epi32(units, _mm_sub_epi32(_mm_castps_si128(rounded), bases));
            __m128 rest = _mm_sub_ps(p, _mm_sub_ps(rounded, shifters));
            any_halfway = _mm_or_ps(any_halfway, _mm_or_ps(_mm_cmpeq_ps(rest, halves), _mm_cmpeq_ps(rest, minus_halves)));
        }
        u32 lane[4];
        _mm_storeu_si128(reinterpret_cast<__m128i*>(lane), units);
        u32 block_units = lane[0] + lane[1] + lane[2] + lane[3];
        bool block_halfway = _mm_movemask_ps(any_halfway) != 0;
        for (u32 i = vector_end; i < end; ++i) {
            block_units += units_of(tokens[i].probability);
            block_halfway = block_halfway || halfway(tokens[i].probability);
        }
        if (block_halfway) {
            for (u32 i = begin;; ++i) {
                if (halfway(tokens[i].probability)) {
                    result.halfway_at = i;
                    return result;
                }
                result.units += units_of(tokens[i].probability);
            }
        }
        result.units += block_units;
    }
    return result;
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
    nucleus.m_tokens = TRY(rt::HeapArray<Candidate>::allocate_zeroed(size_t(vocab_size) + 8));
    nucleus.m_masks = TRY(rt::HeapArray<u16>::allocate_zeroed(size_t(vocab_size) / 16 + 1));
    nucleus.m_selected = TRY(rt::HeapArray<Candidate>::allocate_zeroed(size_t(vocab_size) + 16)); // select_candidates' room
    nucleus.m_run_first = TRY(rt::HeapArray<u32>::allocate_zeroed(max_buckets + 1));
    nucleus.m_run_sums = TRY(rt::HeapArray<float>::allocate_zeroed(max_buckets + 1));
    nucleus.m_run_sorted = TRY(rt::HeapArray<bool>::allocate_zeroed(max_buckets + 1));
    nucleus.m_large_scratch = TRY(rt::HeapArray<Candidate>::allocate_zeroed(size_t(vocab_size)));
    nucleus.m_histogram = TRY(rt::HeapArray<u32>::allocate_zeroed(3 * 4096));
    return nucleus;
}

// The buckets from 1 down to `cutoff` (how many: m_shift chosen so that they are at most
// max_buckets), their counts zeroed.
u32 Nucleus::empty_buckets(float cutoff)
{
    u32 span = one_bits - bits_of(cutoff);
    m_shift = 0;
    while ((span >> m_shift) >= max_buckets)
        ++m_shift;
    u32 buckets = (span >> m_shift) + 1;
    for (u32 b = 0; b < buckets; ++b)
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
    u32* counts = m_counts.data();
    u16* bucket_of = m_bucket_of.data();
    Candidate const* tokens = m_selected.data();
    u32 shift = m_shift; // a local: the counts' stores could alias the member, reloaded after each
    for (u32 j = 0; j < selected; ++j) {
        i32 distance = i32(one_bits) - __builtin_bit_cast(i32, tokens[j].probability);
        u32 b = u32(distance > 0 ? distance : 0) >> shift;
        bucket_of[j] = u16(b);
        ++counts[b];
    }
    return selected;
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
    // far as the candidates counted so far reach: place_tokens then finds them in the cache.
    u16* masks = m_masks.data();
    char const* places = reinterpret_cast<char const*>(m_tokens.data());
    u32 counted = 0;
    for (i32 i = 0; i < block_end; i += 16) {
        u32 mask = candidates(probabilities + i, floor);
        masks[i / 16] = u16(mask);
        if (!mask)
            continue;
        u32 kept = bits_set(mask);
        _mm_prefetch(places + sizeof(Candidate) * counted, _MM_HINT_T0);
        _mm_prefetch(places + sizeof(Candidate) * counted + 64, _MM_HINT_T0);
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
    for (u32 b = 0; b + 1 < buckets; ++b) {
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
    for (u32 b = 0; b < buckets; ++b) {
        next[b] = offset;
        offset += counts[b];
    }
    u16 const* bucket_of = m_bucket_of.data();
    Candidate* tokens = m_tokens.data();
    // Tokens not kept in a dense block are written to slots after the candidates (one per
    // lane of 8, so that they do not wait for one another), never read.
    for (u32 lane = 0; lane < 8; ++lane)
        next[max_buckets + lane] = u32(m_vocab_size) + lane;
    auto place = [=](i32 i, bool kept) {
        u32 b = select(kept, bucket_of[i], max_buckets + u32(i) % 8);
        u32 at = next[b];
        // One 8-byte store rather than two of 4 (stores are what this loop is bound by): the
        // probability's bits first, as the Candidate lays them out on a little-endian x86.
        u64 candidate = u64(bits_of(probabilities[i])) | (u64(u32(i)) << 32);
        __builtin_memcpy(tokens + at, &candidate, sizeof candidate);
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
    for (u32 b = 0; b < buckets; ++b) // back to where each bucket begins
        next[b] -= counts[b];
}

// place_tokens for the selection of select_and_count: its tokens at or above `lowest`.
void Nucleus::place_selected(u32 selected, u32 buckets, float lowest)
{
    u32* next = m_starts.data();
    u32 offset = 0;
    for (u32 b = 0; b < buckets; ++b) {
        next[b] = offset;
        offset += m_counts[b];
    }
    u16 const* bucket_of = m_bucket_of.data();
    Candidate const* from = m_selected.data();
    Candidate* tokens = m_tokens.data();
    for (u32 j = 0; j < selected; ++j)
        if (from[j].probability >= lowest)
            tokens[next[bucket_of[j]]++] = from[j];
    for (u32 b = 0; b < buckets; ++b) // back to where each bucket begins
        next[b] -= m_counts[b];
}

// Sorts one bucket's tokens (insertion for the few a bucket usually holds, radix for more).
void Nucleus::sort_bucket(u32 bucket)
{
    u32 count = m_counts[bucket];
    Candidate* tokens = m_tokens.data() + m_starts[bucket];
    if (count <= insertion_limit) {
        insertion_sort(tokens, count);
        return;
    }
    Candidate* sorted = sort_descending(tokens, m_large_scratch.data(), *reinterpret_cast<RadixHistogram*>(m_histogram.data()), count);
    if (sorted != tokens)
        for (u32 i = 0; i < count; ++i)
            tokens[i] = sorted[i];
}

// How far a run of buckets from `first` may go with the sum staying under `room`: the
// largest value a bucket can hold times its count, added up (the rounding of each term to
// the sum's ulp is covered by the margin the caller leaves).
u32 Nucleus::run_end(u32 first, u32 buckets, float room) const
{
    float bound = 0.0f;
    u32 b = first;
    for (; b < buckets; ++b) {
        float highest = float_of(one_bits - (b << m_shift));
        bound += highest * float(m_counts[b]);
        if (bound >= room)
            break;
    }
    return b;
}

// Adds the buckets [first, end) to `sum` at once where that is exact (see nucleus.h): up to
// the first bucket with a token halfway between multiples of the sum's ulp (`halfway` then
// says so), and only if the sum stays in its binade and does not pass top_p. Returns the
// bucket reached (`first` when nothing was added). `sum` is positive, and no token of the
// run above 2^22 of its ulps.
u32 Nucleus::add_run(u32 first, u32 end, float& sum, float top_p, bool& halfway) const
{
    u32 exponent = bits_of(sum) >> mantissa_bits;
    u64 mantissa = (bits_of(sum) & (implicit_one - 1)) | implicit_one;
    float shifter = float_of((exponent << mantissa_bits) | (implicit_one >> 1));
    u32 first_token = m_starts[first], tokens = m_starts[end - 1] + m_counts[end - 1] - first_token;
    Candidate const* run = m_tokens.data() + first_token;
    auto added = rounded_sum(run, tokens, shifter, 2 * u64(implicit_one) - mantissa);
    halfway = added.halfway_at < tokens;
    if (halfway) { // back to the start of the halfway token's bucket
        end = first;
        while (m_starts[end] + m_counts[end] <= first_token + added.halfway_at)
            ++end;
        for (u32 i = m_starts[end] - first_token; i < added.halfway_at; ++i)
            added.units -= bits_of(run[i].probability + shifter) - bits_of(shifter);
        if (end == first)
            return first;
    }
    u64 total = mantissa + added.units;
    if (total >= 2 * u64(implicit_one)) {
        halfway = false;
        return first;
    }
    float after = float_of((exponent << mantissa_bits) | u32(total - implicit_one));
    if (after > top_p) {
        halfway = false;
        return first;
    }
    sum = after;
    return end;
}

// Whether the tokens of buckets from `first` on are at most 2^22 ulps of `sum`.
bool Nucleus::small_enough(u32 first, float sum) const
{
    u32 exponent = bits_of(sum) >> mantissa_bits;
    float highest = float_of(one_bits - (first << m_shift));
    return sum > 0.0f && highest <= float_of((exponent - 1) << mantissa_bits);
}

// llama2.c's first loop: the running sum until it passes top_p, run after run. A run is
// some buckets whose tokens are added at once (nucleus.h), or a single bucket, sorted and
// added token by token: the first, those where the sum leaves its binade or passes top_p,
// and those with a token exactly halfway between two multiples of the sum's ulp.
Nucleus::Cut Nucleus::first_loop(u32 buckets, float top_p)
{
    u32 const* counts = m_counts.data();
    u32 const* starts = m_starts.data();
    Candidate const* tokens = m_tokens.data();
    float sum = 0.0f;
    u32 runs = 0;
    u32 last = ~0u, last_bucket = 0; // the last kept token's place in m_tokens, and its bucket
    u32 halfway_bucket = ~0u; // a bucket known to hold a halfway token
    for (u32 b = 0; b < buckets && last == ~0u;) {
        if (!counts[b]) {
            ++b;
            continue;
        }
        if (b != halfway_bucket && small_enough(b, sum)) {
            // As many buckets as surely stay in the sum's binade and under top_p (their
            // largest possible values counted; the margin covers the rounding); fewer when
            // that fails after all.
            u32 exponent = bits_of(sum) >> mantissa_bits;
            float room = rt::min(float_of((exponent + 1) << mantissa_bits), top_p) - sum;
            u32 end = run_end(b, buckets, room * 0.99f);
            bool halfway = false;
            float before = sum;
            u32 reached = b;
            while (end > b && reached == b && !halfway) {
                reached = add_run(b, end, sum, top_p, halfway);
                end = b + (end - b) / 2;
            }
            if (halfway)
                halfway_bucket = reached;
            if (reached > b) {
                m_run_first[runs] = b;
                m_run_sums[runs] = before;
                m_run_sorted[runs] = false;
                ++runs;
                b = reached;
                continue;
            }
        }
        m_run_first[runs] = b;
        m_run_sums[runs] = sum;
        m_run_sorted[runs] = true;
        ++runs;
        sort_bucket(b);
        for (u32 i = starts[b], end = starts[b] + counts[b]; i < end; ++i) {
            sum += tokens[i].probability;
            if (sum > top_p) {
                last = i;
                last_bucket = b;
                break;
            }
        }
        ++b;
    }
    return { sum, runs, last, last_bucket };
}

i32 Nucleus::pick(const float* probabilities, float top_p, float coin)
{
    return pick(probabilities, top_p, coin, largest(probabilities, m_vocab_size));
}

i32 Nucleus::pick(const float* probabilities, float top_p, float coin, float largest_probability)
{
    if (m_vocab_size == 1)
        return 0;
    float cutoff = (1.0f - top_p) / float(m_vocab_size - 1);
    // Most of a peaked distribution's candidates lie far below its nucleus: counted first are
    // those within 2^-10 of the largest probability (selected first), every candidate when
    // they cannot hold the nucleus. Only the buckets that can are placed and walked; should
    // the sum not pass top_p in them after all (rounding), every candidate is.
    float floor = rt::max(cutoff, largest_probability * 0x1p-10f);
    bool limited = true;
    Cut cut;
    u32 buckets;
    while (true) {
        bool top = floor > cutoff;
        u32 all, selected = 0;
        if (top) {
            all = empty_buckets(cutoff); // sets the bucket width select_and_count counts with
            selected = select_and_count(probabilities, floor);
        } else {
            all = count_tokens(probabilities, cutoff, floor);
        }
        buckets = limited ? nucleus_buckets(all, cutoff, top_p) : all;
        if (buckets == all && floor > cutoff) {
            floor = cutoff;
            continue;
        }
        float lowest = buckets == all ? cutoff : float_of(one_bits - (buckets << m_shift) + 1);
        if (top)
            place_selected(selected, buckets, rt::max(floor, lowest));
        else
            place_tokens(probabilities, buckets, rt::max(floor, lowest));
        cut = first_loop(buckets, top_p);
        if (cut.last != ~0u || buckets == all)
            break;
        floor = cutoff;
        limited = false;
    }
    u32 const* counts = m_counts.data();
    u32 const* starts = m_starts.data();
    Candidate const* tokens = m_tokens.data();
    float sum = cut.sum;
    u32 runs = cut.runs, last = cut.last, last_bucket = cut.last_bucket;
    if (runs == 0) // no token reaches the cutoff
        return -1;
    if (last == ~0u) { // the sum never passed top_p: llama2.c keeps every candidate
        last_bucket = m_run_first[runs - 1];
        for (u32 b = last_bucket; b < buckets; ++b)
            last_bucket = counts[b] ? b : last_bucket;
        sort_bucket(last_bucket);
        last = starts[last_bucket] + counts[last_bucket] - 1;
    }

    // llama2.c's second loop: the first token whose running sum passes r. Its run is the
    // first whose sum at the end does; within a run of buckets added at once, its bucket the
    // first whose sum does (each bucket's sum exact, as the run's was); that bucket is then
    // sorted and added token by token.
    float r = coin * sum;
    u32 run = 0;
    while (run + 1 < runs && !(r < m_run_sums[run + 1]))
        ++run;
    float partial = m_run_sums[run];
    u32 end_bucket = run + 1 < runs ? m_run_first[run + 1] : last_bucket + 1;
    for (u32 b = m_run_first[run]; b < end_bucket; ++b) {
        if (!counts[b])
            continue;
        if (!m_run_sorted[run]) {
            float after = partial;
            bool halfway;
            bool added = add_run(b, b + 1, after, 2.0f, halfway) == b + 1;
            if (added && !(r < after)) {
                partial = after;
                continue;
            }
            sort_bucket(b);
        }
        u32 end = b == last_bucket ? last + 1 : starts[b] + counts[b];
        for (u32 i = starts[b]; i < end; ++i) {
            partial += tokens[i].probability;
            if (r < partial)
                return tokens[i].index;
        }
    }
    return tokens[last].index;
}

}
