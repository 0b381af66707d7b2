#include "candidate_sort.h"
#include <rt/span.h>

namespace llm {

namespace {

u32 bits_of(float value) { return __builtin_bit_cast(u32, value); }

}

template<typename Token>
void insertion_sort(Token* tokens, size_t count)
{
    for (size_t i = 1; i < count; ++i) {
        Token token = tokens[i];
        size_t j = i;
        while (j > 0 && probability_of(tokens[j - 1]) < probability_of(token)) {
            tokens[j] = tokens[j - 1];
            --j;
        }
        tokens[j] = token;
    }
}

// Sorts candidates by probability, descending, equal ones in index order (the order a stable
// sort of llama2.c's candidate list gives): an LSD radix sort on the float's bits, whose
// order is the value's order for non-negative floats, in up to three digits of <= 12 bits.
// A pass in which every key has the same digit is skipped.
template<typename Token>
Token* sort_descending(Token* source, Token* scratch, RadixHistogram& histogram, size_t count)
{
    if (count < 32) { // cheaper than the passes for a few
        insertion_sort(source, count);
        return source;
    }
    // Keys ascend as values descend; counted from the smallest, so candidates within a few
    // octaves of each other (a flat distribution's are) differ only in their low bits.
    // Those bits are split into as few digits of at most 12 bits as cover them, of equal
    // width: a digit with only a few values would make each increment of its counters wait
    // for the previous one.
    u32 smallest = ~0u, largest = 0;
    for (size_t i = 0; i < count; ++i) {
        u32 k = ~bits_of(probability_of(source[i]));
        smallest = k < smallest ? k : smallest;
        largest = k > largest ? k : largest;
    }
    u32 span = largest - smallest;
    u32 span_bits = span ? 32 - u32(__builtin_clz(span)) : 1;
    u32 passes = (span_bits + 11) / 12;
    u32 width = (span_bits + passes - 1) / passes;
    u32 shifts[3] = { 0, width, 2 * width }, mask = (1u << width) - 1, masks[3] = { mask, mask, mask };
    for (u32 pass = 0; pass < passes; ++pass) // only the digits used: a few, for small spans
        for (u32& slot : rt::Span<u32>(histogram[pass], size_t(mask) + 1))
            slot = 0;
    auto key = [smallest](Token const& token) { return ~bits_of(probability_of(token)) - smallest; };
    for (size_t i = 0; i < count; ++i) {
        u32 k = key(source[i]);
        ++histogram[0][k & masks[0]];
        if (passes > 1)
            ++histogram[1][(k >> shifts[1]) & masks[1]];
        if (passes > 2)
            ++histogram[2][(k >> shifts[2]) & masks[2]];
    }
    for (u32 pass = 0; pass < passes; ++pass) {
        u32* counts = histogram[pass];
        if (counts[(key(source[0]) >> shifts[pass]) & masks[pass]] == count)
            continue; // one digit everywhere: this pass would not move anything
        u32 offset = 0;
        for (u32 digit = 0; digit <= masks[pass]; ++digit) {
            u32 here = counts[digit];
            counts[digit] = offset;
            offset += here;
        }
        for (size_t i = 0; i < count; ++i)
            scratch[counts[(key(source[i]) >> shifts[pass]) & masks[pass]]++] = source[i];
        auto* swap = source;
        source = scratch;
        scratch = swap;
    }
    return source;
}

template void insertion_sort(Candidate*, size_t);
template void insertion_sort(float*, size_t);
template Candidate* sort_descending(Candidate*, Candidate*, RadixHistogram&, size_t);
template float* sort_descending(float*, float*, RadixHistogram&, size_t);

}
