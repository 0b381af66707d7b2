#include "bpe_merges.h"

namespace llm {

u64 BpeMerges::hash(u64 pair)
{
    pair ^= pair >> 31;
    pair *= 0x9E3779B97F4A7C15ull;
    return pair ^ (pair >> 29);
}

rt::ErrorOr<BpeMerges> BpeMerges::build(gguf::Value const& merges, rt::Span<const rt::StringView> pieces, PieceIndex const& index)
{
    BpeMerges m;
    size_t size = 16;
    while (size < 2 * merges.count)
        size *= 2;
    m.m_table = TRY(rt::HeapArray<Slot>::allocate(size));
    for (size_t i = 0; i < size; ++i)
        m.m_table[i] = { ~0ull, -1, -1 };
    size_t longest = 0;
    for (auto piece : pieces)
        longest = rt::max(longest, piece.length());
    auto joined = TRY(rt::HeapArray<char>::allocate(2 * longest + 1));
    gguf::StringArrayCursor cursor(merges);
    rt::StringView merge;
    for (u64 rank = 0; cursor.next(merge); ++rank) {
        size_t space = merge.find(' ', 1); // a token may be a lone space only as its first character
        if (space == merge.length())
            return rt::Error::format("tokenizer: merge {} (\"{}\") is not two tokens with a space between", rank, merge);
        rt::StringView left = merge.substring(0, space), right = merge.substring(space + 1);
        i32 left_id = index.find(left), right_id = index.find(right);
        if (left.length() + right.length() > 2 * longest)
            return rt::Error::format("tokenizer: merge {} (\"{}\") is longer than any token", rank, merge);
        __builtin_memcpy(joined.data(), left.data(), left.length());
        __builtin_memcpy(joined.data() + left.length(), right.data(), right.length());
        i32 token = index.find({ joined.data(), left.length() + right.length() });
        if (left_id < 0 || right_id < 0 || token < 0)
            return rt::Error::format("tokenizer: merge {} (\"{}\") names a token the vocabulary lacks", rank, merge);
        u64 pair = u64(u32(left_id)) << 32 | u32(right_id);
        size_t mask = m.m_table.size() - 1;
        for (size_t at = hash(pair) & mask;; at = (at + 1) & mask) {
            Slot& slot = m.m_table[at];
            if (slot.pair == pair)
                break; // learned twice: the first rank stands
            if (slot.pair == ~0ull) {
                slot = { pair, i32(rank), token };
                ++m.m_count;
                break;
            }
        }
    }
    return m;
}

BpeMerges::Merge BpeMerges::find(i32 left, i32 right) const
{
    if (m_table.size() == 0 || left < 0 || right < 0)
        return { -1, -1 };
    u64 pair = u64(u32(left)) << 32 | u32(right);
    size_t mask = m_table.size() - 1;
    for (size_t at = hash(pair) & mask;; at = (at + 1) & mask) {
        Slot const& slot = m_table[at];
        if (slot.pair == pair)
            return { slot.rank, slot.token };
        if (slot.pair == ~0ull)
            return { -1, -1 };
    }
}

}
