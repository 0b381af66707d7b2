#pragma once
// How deep each core's stack went, and whether it went too deep. Without paging nothing
// stops a stack that outgrows its memory: it overwrites whatever lies below, silently. So
// each stack is painted with a pattern before it is used; afterwards the lowest word that
// no longer holds the pattern says how deep it went (the run's [mem] line reports it),
// and a stack that reached its lowest guard_bytes is named as a fault: memory below it
// may already have been overwritten.
#include <rt/types.h>

namespace rt {

class StackWatch {
public:
    static constexpr size_t max_stacks = 64;
    static constexpr size_t guard_bytes = 4096;

    static StackWatch& the();

    // Core `core`'s stack is [bottom, bottom + size); paints [bottom, paint_end) (all of a
    // fresh stack; below the live part of one already running).
    void watch(size_t core, u8* bottom, size_t size, u8* paint_end);
    // Forgets core `core`'s stack (a core that did not start: its memory goes back).
    void forget(size_t core)
    {
        if (core < m_count)
            m_stacks[core] = {};
    }

    struct Use {
        size_t deepest; // bytes from the top to the lowest word written
        size_t size;
        bool reached_guard;
    };
    // Null-sized (size 0) for a core whose stack is not watched.
    Use use(size_t core) const;
    size_t watched() const { return m_count; }
    u8* bottom(size_t core) const { return core < m_count ? m_stacks[core].bottom : nullptr; }
    // Prints the deepest use (the boot core's, and the most any other core's took) and a
    // [fault] line for each stack that reached its guard; returns whether none did.
    bool report() const;

private:
    struct Stack {
        u8* bottom { nullptr };
        size_t size { 0 };
    };
    Stack m_stacks[max_stacks];
    size_t m_count { 0 };
};

}
