#pragma once
// A first-fit allocator over the usable memory the boot loader reported, minus everything
// that must never be handed out (the kernel image, the boot information, the modules, the
// first MiB). Freed blocks are coalesced with their neighbours.
//
// Fuzz and sanitizer builds compile heap.cpp with BAREFLOW_HEAP_MALLOC: every allocation
// is then its own malloc block, so AddressSanitizer sees overflows, use after free and
// leaks that an arena hides. The usable ranges still set the budget (total_bytes), so the
// out-of-memory paths behave as in the kernel. The kernel never defines it.
#include <rt/error.h>
#include <rt/span.h>

namespace rt {

struct MemoryRange {
    u64 base;
    u64 length;
    u64 end() const { return base + length; }
    bool overlaps(MemoryRange other) const { return base < other.end() && other.base < end(); }
};

class Heap {
public:
    static constexpr size_t max_regions = 32;
    static constexpr size_t default_alignment = 16;

    static Heap& the();

    // Usable memory above `address_limit` is ignored (e.g. 4 GiB on i686): clamped, never
    // truncated into a wrong address.
    void initialize(Span<const MemoryRange> usable, Span<const MemoryRange> reserved, u64 address_limit);

    ErrorOr<void*> allocate(size_t size, size_t alignment = default_alignment);
    void free(void*);

    template<typename T>
    ErrorOr<T*> allocate_array(size_t count, size_t alignment = 64)
    {
        if (count && sizeof(T) > SIZE_MAX / count)
            return Error::format("allocation of {} x {} bytes overflows", count, sizeof(T));
        void* memory = TRY(allocate(count * sizeof(T), alignment));
        return static_cast<T*>(memory);
    }

    Span<const MemoryRange> regions() const { return { m_regions, m_region_count }; }
    u64 total_bytes() const { return m_total_bytes; }
    u64 free_bytes() const;
    u64 largest_free_block() const;

private:
    struct FreeBlock {
        size_t length;
        FreeBlock* next;
    };
    struct Header {
        uptr block_start;
        size_t block_length;
        u32 magic;
        u32 padding;
    };
    static constexpr u32 live_magic = 0xB10CA7ED;
    static constexpr size_t min_block = 64;

    void insert_free(uptr start, size_t length);

    MemoryRange m_regions[max_regions] {};
    size_t m_region_count { 0 };
    u64 m_total_bytes { 0 };
    FreeBlock* m_free_list { nullptr };
    u64 m_live_bytes { 0 }; // BAREFLOW_HEAP_MALLOC only: bytes handed out and not freed
};

// RAII ownership of a heap allocation; released back to the heap when it goes out of scope.
template<typename T>
class HeapArray {
public:
    HeapArray() = default;
    static ErrorOr<HeapArray> allocate(size_t count, size_t alignment = 64)
    {
        HeapArray array;
        array.m_data = TRY(Heap::the().allocate_array<T>(count, alignment));
        array.m_count = count;
        return array;
    }
    // The same with every byte zero: written once now, so a hosted build's arena (mapped
    // on first touch) takes its page faults here rather than in the first use.
    static ErrorOr<HeapArray> allocate_zeroed(size_t count, size_t alignment = 64)
    {
        HeapArray array = TRY(allocate(count, alignment));
        __builtin_memset(array.m_data, 0, count * sizeof(T));
        return array;
    }
    HeapArray(HeapArray&& other) : m_data(other.m_data), m_count(other.m_count)
    {
        other.m_data = nullptr;
        other.m_count = 0;
    }
    HeapArray& operator=(HeapArray&& other)
    {
        if (this != &other) {
            release();
            m_data = other.m_data;
            m_count = other.m_count;
            other.m_data = nullptr;
            other.m_count = 0;
        }
        return *this;
    }
    ~HeapArray() { release(); }

    T* data() const { return m_data; }
    size_t size() const { return m_count; }
    T& operator[](size_t i) const { return m_data[i]; }
    Span<T> span() const { return { m_data, m_count }; }

private:
    void release()
    {
        if (m_data)
            Heap::the().free(m_data);
        m_data = nullptr;
    }
    T* m_data { nullptr };
    size_t m_count { 0 };
};

}
