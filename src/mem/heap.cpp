#include <rt/heap.h>
#ifdef BAREFLOW_HEAP_MALLOC
#    include <malloc.h>
#    include <stdlib.h>
#endif

namespace rt {

Heap& Heap::the()
{
    static Heap heap;
    return heap;
}

namespace {

// Adds `range` minus every reserved range to `out`, splitting where reservations cut it.
void subtract_reserved(MemoryRange range, Span<const MemoryRange> reserved, MemoryRange* out, size_t& count, size_t capacity)
{
    for (auto const& hole : reserved) {
        if (!range.overlaps(hole) || hole.length == 0)
            continue;
        if (range.base < hole.base)
            subtract_reserved({ range.base, hole.base - range.base }, reserved, out, count, capacity);
        if (hole.end() < range.end())
            subtract_reserved({ hole.end(), range.end() - hole.end() }, reserved, out, count, capacity);
        return;
    }
    if (range.length && count < capacity)
        out[count++] = range;
}

}

void Heap::initialize(Span<const MemoryRange> usable, Span<const MemoryRange> reserved, u64 address_limit)
{
    m_region_count = 0;
    m_total_bytes = 0;
    m_free_list = nullptr;
    m_live_bytes = 0;
    // Address 0 would look like a null pointer, and pointer arithmetic must not wrap.
    if (address_limit > u64(UINTPTR_MAX) - 4096)
        address_limit = u64(UINTPTR_MAX) - 4096;
    for (auto range : usable) {
        if (range.base < 16)
            range = { 16, range.length > 16 - range.base ? range.length - (16 - range.base) : 0 };
        if (range.base >= address_limit)
            continue;
        if (range.end() > address_limit)
            range.length = address_limit - range.base;
        subtract_reserved(range, reserved, m_regions, m_region_count, max_regions);
    }
    for (size_t i = 0; i < m_region_count; ++i) {
        // Keep every block 16-byte aligned so headers and free-list nodes are aligned.
        u64 start = align_up(m_regions[i].base, 16);
        u64 end = m_regions[i].end() & ~u64(15);
        if (end <= start + min_block) {
            m_regions[i].length = 0;
            continue;
        }
        m_regions[i] = { start, end - start };
        m_total_bytes += end - start;
#ifndef BAREFLOW_HEAP_MALLOC // malloc-backed, the ranges only set the budget
        insert_free(uptr(start), size_t(end - start));
#endif
    }
}

ErrorOr<void*> Heap::allocate(size_t size, size_t alignment)
{
    if (alignment < default_alignment)
        alignment = default_alignment;
    if (!is_power_of_two(alignment))
        return Error::format("allocation alignment {} is not a power of two", alignment);
    if (size > SIZE_MAX / 2)
        return Error::format("out of memory: {} bytes requested", size);
#ifdef BAREFLOW_HEAP_MALLOC
    if (size > m_total_bytes - m_live_bytes)
        return Error::format("out of memory: {} bytes requested (alignment {}), largest free block is {} bytes, {} bytes free in all",
            size, alignment, largest_free_block(), free_bytes());
    void* block = nullptr;
    if (posix_memalign(&block, alignment, size ? size : 1) != 0)
        return Error::format("out of memory: malloc refused {} bytes", size);
    m_live_bytes += malloc_usable_size(block);
    return block;
#else
    size_t rounded = size_t(align_up(size ? size : 1, 16));

    FreeBlock** link = &m_free_list;
    while (FreeBlock* block = *link) {
        uptr block_start = uptr(block);
        uptr block_end = block_start + block->length;
        uptr user = uptr(align_up(block_start + sizeof(Header), alignment));
        uptr header_at = user - sizeof(Header);
        if (user + rounded > block_end || user + rounded < user) {
            link = &block->next;
            continue;
        }
        *link = block->next;
        // A gap before the header big enough to be useful goes back to the free list.
        uptr taken_start = block_start;
        if (header_at - block_start >= min_block) {
            insert_free(block_start, header_at - block_start);
            taken_start = header_at;
        }
        uptr taken_end = user + rounded;
        if (block_end - taken_end >= min_block)
            insert_free(taken_end, block_end - taken_end);
        else
            taken_end = block_end;
        auto* header = reinterpret_cast<Header*>(header_at);
        header->block_start = taken_start;
        header->block_length = taken_end - taken_start;
        header->magic = live_magic;
        return reinterpret_cast<void*>(user);
    }
    return Error::format("out of memory: {} bytes requested (alignment {}), largest free block is {} bytes, {} bytes free in all",
        size, alignment, largest_free_block(), free_bytes());
#endif
}

void Heap::free(void* pointer)
{
    if (!pointer)
        return;
#ifdef BAREFLOW_HEAP_MALLOC
    // No magic check here: a double free or a stray pointer is exactly what ASan reports.
    // Blocks from before a re-initialisation were not counted in this budget.
    m_live_bytes -= min<u64>(m_live_bytes, malloc_usable_size(pointer));
    ::free(pointer);
    return;
#endif
    auto* header = reinterpret_cast<Header*>(uptr(pointer) - sizeof(Header));
    // A double free or a stray pointer would corrupt the free list: refuse it instead.
    if (header->magic != live_magic)
        return;
    header->magic = 0;
    insert_free(header->block_start, header->block_length);
}

void Heap::insert_free(uptr start, size_t length)
{
    // The list is kept sorted by address so neighbours can be merged.
    FreeBlock** link = &m_free_list;
    FreeBlock* previous = nullptr;
    while (*link && uptr(*link) < start) {
        previous = *link;
        link = &(*link)->next;
    }
    auto* block = reinterpret_cast<FreeBlock*>(start);
    block->length = length;
    block->next = *link;
    *link = block;
    if (block->next && start + length == uptr(block->next)) {
        block->length += block->next->length;
        block->next = block->next->next;
    }
    if (previous && uptr(previous) + previous->length == start) {
        previous->length += block->length;
        previous->next = block->next;
    }
}

u64 Heap::free_bytes() const
{
#ifdef BAREFLOW_HEAP_MALLOC
    return m_total_bytes > m_live_bytes ? m_total_bytes - m_live_bytes : 0;
#endif
    u64 total = 0;
    for (FreeBlock* block = m_free_list; block; block = block->next)
        total += block->length;
    return total;
}

u64 Heap::largest_free_block() const
{
#ifdef BAREFLOW_HEAP_MALLOC
    return free_bytes();
#endif
    u64 largest = 0;
    for (FreeBlock* block = m_free_list; block; block = block->next)
        largest = max<u64>(largest, block->length);
    return largest;
}

}
