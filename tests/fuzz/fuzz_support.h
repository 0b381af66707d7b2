#pragma once
// Shared by the libFuzzer targets: exact-size copies of the input's parts (so ASan sees a
// read one byte past a module's end), a bounded heap, and a console that discards text.
// The targets are built with BAREFLOW_HEAP_MALLOC, so rt::Heap hands out malloc blocks.
#include <cstdlib>
#include <cstring>
#include <rt/console.h>
#include <rt/heap.h>
#include <rt/span.h>

namespace fuzz {

// Joins the parts of one input: "command line", "model", "tokenizer", ... in that order.
constexpr char separator[] = "\n@@BAREFLOW@@\n";
constexpr size_t separator_length = sizeof separator - 1;

// One part of the input in its own malloc block of exactly its size, page-aligned like a
// Multiboot2 module (the hosted program aligns modules the same way).
class Part {
public:
    Part(const u8* data, size_t size) : m_size(size)
    {
        if (posix_memalign(reinterpret_cast<void**>(&m_data), 4096, size ? size : 1) != 0)
            abort();
        if (size)
            memcpy(m_data, data, size);
    }
    Part(Part const&) = delete;
    Part& operator=(Part const&) = delete;
    ~Part() { free(m_data); }
    rt::Bytes bytes() const { return { m_data, m_size }; }
    rt::Span<u8> writable_bytes() { return { m_data, m_size }; }
    rt::StringView text() const { return { reinterpret_cast<const char*>(m_data), m_size }; }
    size_t size() const { return m_size; }

private:
    u8* m_data { nullptr };
    size_t m_size { 0 };
};

// Cuts `data` at the first `count - 1` separators; missing parts are empty.
struct Split {
    rt::Bytes parts[4];
};
inline Split split(const u8* data, size_t size, size_t count)
{
    Split out {};
    size_t start = 0;
    for (size_t i = 0; i < count; ++i) {
        size_t end = size;
        if (i + 1 < count)
            for (size_t at = start; at + separator_length <= size; ++at)
                if (memcmp(data + at, separator, separator_length) == 0) {
                    end = at;
                    break;
                }
        out.parts[i] = { data + start, end - start };
        start = end < size ? end + separator_length : size;
    }
    return out;
}

// The heap: a budget of `bytes` (malloc-backed, so no arena is needed).
inline void reset_heap(size_t bytes)
{
    rt::MemoryRange budget[] = { { 4096, bytes } };
    rt::Heap::the().initialize(budget, {}, UINT64_MAX);
}

class DiscardSink final : public rt::ConsoleSink {
public:
    void write(rt::StringView) override {}
};

}
