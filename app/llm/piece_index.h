#pragma once
// Finds a token id by its text: an open-addressing hash table over a tokenizer's pieces,
// shared by both tokenizer formats. The pieces must outlive the index.
#include <rt/error.h>
#include <rt/heap.h>

namespace llm {

class PieceIndex {
public:
    static rt::ErrorOr<PieceIndex> build(rt::Span<const rt::StringView> pieces);
    // The id of `text`, or -1. A piece that appears twice keeps its first id.
    i32 find(rt::StringView text) const;

private:
    rt::Span<const rt::StringView> m_pieces;
    rt::HeapArray<i32> m_table; // power-of-two size, at most half full; -1 is empty
};

}
