// llama2.c's two loops over the sorted nucleus, on the buckets nucleus_buckets.cpp fills:
// runs of buckets added at once where that is exact, single buckets sorted and added token
// by token where it is not (nucleus.h).
#include "nucleus.h"
#include "kernels/kernels.h"
#include "nucleus_bits.h"
#include <emmintrin.h>
#include <rt/utility.h>

namespace llm {

using namespace nucleus_bits;

namespace {

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
    float const* run = m_tokens.data() + first_token;
    // Stops once the sum would leave its binade.
    auto added = kernels::active().rounded_units(run, tokens, shifter, 2 * u64(implicit_one) - mantissa);
    halfway = added.halfway_at < tokens;
    if (halfway) { // back to the start of the halfway token's bucket
        end = first;
        while (m_starts[end] + m_counts[end] <= first_token + added.halfway_at)
            ++end;
        for (u32 i = m_starts[end] - first_token; i < added.halfway_at; ++i)
            added.units -= bits_of(run[i] + shifter) - bits_of(shifter);
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
    float const* tokens = m_tokens.data();
    float sum = 0.0f;
    u32 runs = 0;
    u32 last = ~0u, last_bucket = 0; // the last kept token's place in m_tokens, and its bucket
    u32 halfway_bucket = ~0u; // a bucket known to hold a halfway token
    for (u32 b = m_first_bucket; b < buckets && last == ~0u;) {
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
            sum += tokens[i];
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
    bool limited = true, tail_tried = false;
    Cut cut;
    u32 buckets;
    while (true) {
        bool top = floor > cutoff;
        if (!top && !tail_tried) { // a flat distribution: its tail binned, should it apply
            tail_tried = true;
            i32 token = pick_with_tail(probabilities, cutoff, top_p, coin);
            if (token != no_tail)
                return token;
        }
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
            place_selected(m_selected.data(), selected, buckets, rt::max(floor, lowest));
        else
            place_tokens(probabilities, buckets, rt::max(floor, lowest));
        cut = first_loop(buckets, top_p);
        if (cut.last != ~0u || buckets == all)
            break;
        floor = cutoff;
        limited = false;
    }
    if (cut.runs == 0) // no token reaches the cutoff
        return -1;
    return pick_in_buckets(probabilities, cut, buckets, coin * cut.sum);
}

// One pass bins the tail and selects the tokens above it (nucleus_tail.h), which go into
// buckets for their first loop; should the sum not pass top_p in them, it goes on through
// the tail's bins, and so does the second loop when r lies beyond them. The token picked in
// the tail is then found in its bin.
i32 Nucleus::pick_with_tail(const float* probabilities, float cutoff, float top_p, float coin)
{
    if (!m_tail.plan(probabilities, cutoff))
        return no_tail;
    u32 selected = m_tail.bin(probabilities, cutoff);
    if (selected == 0 || selected == ~0u) // nothing above the tail; too many exact tokens
        return no_tail;
    // The buckets from the largest of those tokens on, no more, zeroed and walked.
    float const* above = m_tail.above();
    float largest = above[0];
    for (u32 i = 1; i < selected; ++i)
        largest = rt::max(largest, above[i]);
    u32 all = empty_buckets(cutoff, largest);
    count_selected(above, selected);
    u32 buckets = rt::min(all, ((one_bits - bits_of(m_tail.threshold())) >> m_shift) + 1);
    place_selected(above, selected, buckets, m_tail.threshold());
    Cut cut = first_loop(buckets, top_p);
    if (cut.last != ~0u) // the nucleus ends above the tail
        return pick_in_buckets(probabilities, cut, buckets, coin * cut.sum);
    if (!(cut.sum >= m_tail.least_sum()))
        return no_tail;
    if (!m_tail.count())
        return pick_in_buckets(probabilities, cut, buckets, coin * cut.sum); // an empty tail
    ++m_tail_picks;
    auto end = m_tail.first_passing(cut.sum, top_p);
    NucleusTail::Place last = end.passed ? end.place : m_tail.last_place();
    float r = coin * end.sum;
    if (r < cut.sum)
        return pick_in_buckets(probabilities, cut, buckets, r);
    auto picked = m_tail.first_passing_again(r);
    return m_tail.token_at(probabilities, picked.passed && NucleusTail::before(picked.place, last) ? picked.place : last);
}

i32 Nucleus::pick_in_buckets(const float* probabilities, Cut cut, u32 buckets, float r)
{
    u32 const* counts = m_counts.data();
    u32 const* starts = m_starts.data();
    float const* tokens = m_tokens.data();
    u32 runs = cut.runs, last = cut.last, last_bucket = cut.last_bucket;
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
            partial += tokens[i];
            if (r < partial)
                return index_of(probabilities, i);
        }
    }
    return index_of(probabilities, last);
}

// The index of the token at `place` in a sorted bucket: the k-th token in index order whose
// probability is its value, when k - 1 tokens of that value come before it (nucleus.h). Blocks
// of 16 compared in SSE2 vectors, as far as the k-th.
i32 Nucleus::index_of(const float* probabilities, u32 place) const
{
    float value = m_tokens[place];
    u32 before = 0;
    while (place > before && m_tokens[place - before - 1] == value)
        ++before;
    i32 n = m_vocab_size;
    i32 block_end = n - n % 16;
    __m128 wanted = _mm_set1_ps(value);
    auto matches = [&](i32 at) { return u32(_mm_movemask_ps(_mm_cmpeq_ps(_mm_loadu_ps(probabilities + at), wanted))); };
    for (i32 i = 0; i < block_end; i += 16) {
        u32 mask = matches(i) | matches(i + 4) << 4 | matches(i + 8) << 8 | matches(i + 12) << 12;
        for (; mask; mask &= mask - 1, --before)
            if (before == 0)
                return i + __builtin_ctz(mask);
    }
    for (i32 i = block_end; i < n; ++i)
        if (probabilities[i] == value && before-- == 0)
            return i;
    return -1; // not reached: the value is one of the probabilities
}

}
