#pragma once
// A byte-level BPE vocabulary's merges (tokenizer.ggml.merges: "Ġ t", "h e", ... in the
// order they were learned): which two adjacent tokens join, and how early the join was
// learned. Encoding joins the earliest-learned pair first, as training did.
#include "gguf.h"
#include "piece_index.h"

namespace llm {

class BpeMerges {
public:
    // Every merge must name two tokens of the vocabulary whose join is one too.
    static rt::ErrorOr<BpeMerges> build(gguf::Value const& merges, rt::Span<const rt::StringView> pieces, PieceIndex const& index);

    // The rank (0: learned first) of joining `left` and `right`, and the token it makes;
    // rank -1 when they do not join.
    struct Merge {
        i32 rank;
        i32 token;
    };
    Merge find(i32 left, i32 right) const;
    size_t size() const { return m_count; }

private:
    struct Slot {
        u64 pair; // left << 32 | right; ~0: empty
        i32 rank;
        i32 token;
    };
    static u64 hash(u64 pair);
    rt::HeapArray<Slot> m_table; // power-of-two size, at most half full
    size_t m_count { 0 };
};

}
