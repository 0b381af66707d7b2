#pragma once
// Greedy decoding's next token without computing every logit.
//
// Greedy decoding needs only the index of the largest logit, yet the classifier is the
// largest matrix of a small model (60% of the 15M model's bytes: 32000 rows of 288). Here
// an int8 copy of it (groups of 32 with a scale each, made once) gives each row an
// approximate logit a, and a bound E on how far the logit the F32 kernel computes can lie
// from it. Only rows whose a + E reaches the best a - E of all rows can be the largest;
// their logits are computed exactly, by the same kernel as the full product, and the first
// largest of those is the answer: the token argmax() of the full logits gives, bit for bit.
//
// The bound, for row w and input x (w^ and x^ their int8 values times their scales, n
// values in G groups, u = 2^-24 float's unit roundoff):
//   |sum w x - sum w^ x^| <= |w|_1 max|x - x^| + |x^|_1 max|w - w^|
//   the F32 kernel's rounding in any summation order <= (n + 2) u max|x| |w|_1
//   the int8 kernel's float steps (group sums exact) <= (G + 4) u max|x^| |w^|_1
// The weights are quantised exactly, with power-of-two scales (integer steps only), so a
// weight lies within s / 2 of s q; the input as the products' inputs are (ops::quantize),
// within s (1/2 + 127 u). The per-row terms (a bound on |w|_1, which bounds |w^|_1 too, and
// max|w - w^|) are made with the copy and rounded up; the screening pass runs in float with
// a margin that covers its own rounding. Rows with NaN, infinite or tiny weights (a
// subnormal scale) get an infinite bound (always computed). A logit that could overflow,
// or an input that is not finite or quantises with a subnormal scale, takes the full
// product, so a non-finite logit is still found wherever it is.
#include "tensor.h"
#include <rt/error.h>
#include <rt/heap.h>

namespace llm {

class ScreenedArgmax {
public:
    ScreenedArgmax() = default; // empty: create() makes a usable one
    // For an F32 classifier whose rows have a multiple of 32 values; an error
    // otherwise, or when its int8 copy (rows x cols bytes and a little) does not fit.
    static rt::ErrorOr<ScreenedArgmax> create(Tensor const& classifier);
    // Whether a classifier can be screened (its type and width).
    static bool can_screen(Tensor const& classifier);
    // Whether screening gains: a classifier that can be screened and is large (a small one
    // stays in the caches, where its full product costs less than the screening).
    static bool worth_screening(Tensor const& classifier);
    // The bytes create() allocates for a classifier.
    static u64 bytes(Tensor const& classifier);

    bool ready() const { return m_classifier != nullptr; }

    // The index of the first largest of classifier . x, -1 when one of those logits is NaN or
    // infinite: what argmax() gives on the full product. `logits` (rows floats) is scratch;
    // afterwards it holds the exact logits of the rows that were computed, approximations
    // elsewhere.
    i32 argmax(const float* x, float* logits);

    // Since create(): tokens screened, rows computed exactly, tokens that took the full product.
    u64 tokens() const { return m_tokens; }
    u64 exact_rows() const { return m_exact_rows; }
    u64 full_products() const { return m_full_products; }

private:
    // What bounds one token's input: see the header comment; false when it cannot be screened.
    struct InputBounds {
        float times_w1, times_w_error; // rounded up
    };
    bool quantize_input(const float* x, InputBounds&);
    // The rows to compute exactly (into m_candidates, in index order): how many, or
    // screened_out when the full product must run (an approximation overflowed, or a logit
    // could).
    static constexpr size_t screened_out = ~size_t(0);
    size_t screen_rows(const float* logits, InputBounds const&);
    i32 full_product(const float* x, float* logits);

    Tensor const* m_classifier { nullptr };
    Tensor m_copy;                      // the int8 copy: Q8 (group 32), or Q8x8 when it repacks
    rt::HeapArray<i8> m_values;
    rt::HeapArray<float> m_scales;
    rt::HeapArray<float> m_w1;          // per row: |w|_1, rounded up (infinite: always computed)
    rt::HeapArray<float> m_w_error;     // max |w - w^|
    rt::HeapArray<i32> m_candidates;    // rows to compute exactly
    rt::HeapArray<float> m_uppers;      // their upper bounds, while screening
    rt::HeapArray<i8> m_input_q;        // the input in int8, its scales and group sums
    rt::HeapArray<float> m_input_s;
    rt::HeapArray<i32> m_input_sums;
    u64 m_tokens { 0 };
    u64 m_exact_rows { 0 };
    u64 m_full_products { 0 };
};

}
