#pragma once
// The merging both GGUF tokenizer formats share: adjacent symbols joined pair by pair, the
// best-scoring pair first and the leftmost of equals, through a binary heap of candidate
// pairs (a pair whose symbols changed since it was queued is found stale when it comes out).
#include <rt/types.h>

namespace llm {

struct Symbol {
    u32 offset;
    u32 length;
    i32 previous;
    i32 next;
};

struct Bigram {
    float score;
    i32 left;
    i32 right;
    u32 length;
};

// Whether a comes out of the queue before b: higher score, then the leftmost.
inline bool before(Bigram const& a, Bigram const& b) { return a.score > b.score || (a.score == b.score && a.left < b.left); }

// A binary heap over caller-provided storage.
class BigramQueue {
public:
    BigramQueue(Bigram* storage, size_t capacity) : m_items(storage), m_capacity(capacity) {}
    bool empty() const { return m_size == 0; }
    void push(Bigram b)
    {
        if (m_size == m_capacity)
            return; // cannot happen: capacity covers every possible push
        size_t i = m_size++;
        m_items[i] = b;
        while (i > 0 && before(m_items[i], m_items[(i - 1) / 2])) {
            swap(i, (i - 1) / 2);
            i = (i - 1) / 2;
        }
    }
    Bigram pop()
    {
        Bigram top = m_items[0];
        m_items[0] = m_items[--m_size];
        for (size_t i = 0;;) {
            size_t best = i, l = 2 * i + 1, r = 2 * i + 2;
            if (l < m_size && before(m_items[l], m_items[best]))
                best = l;
            if (r < m_size && before(m_items[r], m_items[best]))
                best = r;
            if (best == i)
                break;
            swap(i, best);
            i = best;
        }
        return top;
    }

private:
    void swap(size_t a, size_t b)
    {
        Bigram t = m_items[a];
        m_items[a] = m_items[b];
        m_items[b] = t;
    }
    Bigram* m_items;
    size_t m_capacity;
    size_t m_size { 0 };
};

// Joins pairs as they come out of the queue until it is empty: `join(left, right)` makes
// the left symbol stand for both (its token, in BPE), then the symbols are relinked and
// `try_add(left, right)` queues the new neighbours' pairs where they may join.
template<typename Join, typename TryAdd>
void join_pairs(Symbol* symbols, BigramQueue& queue, Join join, TryAdd try_add)
{
    while (!queue.empty()) {
        Bigram b = queue.pop();
        Symbol& left = symbols[size_t(b.left)];
        Symbol& right = symbols[size_t(b.right)];
        // A bigram whose symbols changed since it was queued is stale.
        if (left.length == 0 || right.length == 0 || left.length + right.length != b.length || left.next != b.right)
            continue;
        join(left, right);
        left.length += right.length;
        right.length = 0;
        left.next = right.next;
        if (right.next >= 0)
            symbols[size_t(right.next)].previous = b.left;
        try_add(left.previous, b.left);
        try_add(b.left, left.next);
    }
}

}
