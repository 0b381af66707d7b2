#include "piece_index.h"

namespace llm {

namespace {
u32 hash(rt::StringView text)
{
    u32 h = 2166136261u; // FNV-1a
    for (char c : text)
        h = (h ^ u8(c)) * 16777619u;
    return h;
}
}

rt::ErrorOr<PieceIndex> PieceIndex::build(rt::Span<const rt::StringView> pieces)
{
    PieceIndex index;
    index.m_pieces = pieces;
    size_t size = 1;
    while (size < pieces.size() * 2)
        size <<= 1;
    index.m_table = TRY(rt::HeapArray<i32>::allocate(size));
    for (size_t i = 0; i < size; ++i)
        index.m_table[i] = -1;
    for (size_t id = 0; id < pieces.size(); ++id) {
        size_t slot = hash(pieces[id]) & (size - 1);
        while (index.m_table[slot] >= 0 && !(pieces[size_t(index.m_table[slot])] == pieces[id]))
            slot = (slot + 1) & (size - 1);
        if (index.m_table[slot] < 0)
            index.m_table[slot] = i32(id);
    }
    return index;
}

i32 PieceIndex::find(rt::StringView text) const
{
    size_t mask = m_table.size() - 1;
    for (size_t slot = hash(text) & mask;; slot = (slot + 1) & mask) {
        i32 id = m_table[slot];
        if (id < 0 || m_pieces[size_t(id)] == text)
            return id;
    }
}

}
