#include <rt/console.h>
#include <rt/stack_watch.h>

namespace rt {

namespace {
// A word no code writes by chance, in every painted word.
constexpr u32 pattern = 0x5AC4'F00Du;
size_t ceil_kib(size_t bytes) { return (bytes + 1023) / 1024; }
}

StackWatch& StackWatch::the()
{
    static StackWatch watch;
    return watch;
}

void StackWatch::watch(size_t core, u8* bottom, size_t size, u8* paint_end)
{
    if (core >= max_stacks)
        return;
    m_stacks[core] = { bottom, size };
    if (core >= m_count)
        m_count = core + 1;
    // Through a volatile pointer: stores into a stack's unused part look dead to the
    // compiler, which may not drop them.
    auto* words = reinterpret_cast<volatile u32*>(bottom);
    for (size_t i = 0, count = size_t(paint_end - bottom) / 4; i < count; ++i)
        words[i] = pattern;
}

bool StackWatch::report() const
{
    if (m_count == 0)
        return true;
    bool within = true;
    Use others { 0, 0, false };
    for (size_t core = 0; core < m_count; ++core) {
        Use u = use(core);
        if (u.reached_guard) {
            println("[fault] core {}'s stack reached its last {} KiB: memory below may be overwritten", core, guard_bytes / 1024);
            within = false;
        }
        if (core > 0 && u.deepest >= others.deepest)
            others = u;
    }
    Use boot = use(0);
    if (others.size)
        println("[mem] deepest stack use: {} of {} KiB (boot core), {} of {} KiB (others)", ceil_kib(boot.deepest), boot.size / 1024,
            ceil_kib(others.deepest), others.size / 1024);
    else
        println("[mem] deepest stack use: {} of {} KiB", ceil_kib(boot.deepest), boot.size / 1024);
    return within;
}

StackWatch::Use StackWatch::use(size_t core) const
{
    if (core >= m_count || !m_stacks[core].size)
        return { 0, 0, false };
    auto const& stack = m_stacks[core];
    auto const* words = reinterpret_cast<const volatile u32*>(stack.bottom);
    size_t untouched = 0;
    while ((untouched + 1) * 4 <= stack.size && words[untouched] == pattern)
        ++untouched;
    size_t lowest_written = untouched * 4;
    return { stack.size - lowest_written, stack.size, lowest_written < guard_bytes };
}

}
