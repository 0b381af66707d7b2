// The four functions the compiler may call on its own (struct copies, zeroing) in a
// freestanding build. `rep movsb/stosb` is fast on every CPU since Ivy Bridge and keeps
// this file from being compiled back into calls to itself.
#include <rt/types.h>

extern "C" {

void* memcpy(void* destination, const void* source, size_t count)
{
    void* d = destination;
    asm volatile("rep movsb" : "+D"(d), "+S"(source), "+c"(count)::"memory");
    return destination;
}

void* memset(void* destination, int value, size_t count)
{
    void* d = destination;
    asm volatile("rep stosb" : "+D"(d), "+c"(count) : "a"(value) : "memory");
    return destination;
}

void* memmove(void* destination, const void* source, size_t count)
{
    auto* d = static_cast<u8*>(destination);
    auto const* s = static_cast<const u8*>(source);
    if (d <= s || d >= s + count)
        return memcpy(destination, source, count);
    // Overlapping with the destination above the source: copy backwards.
    d += count - 1;
    s += count - 1;
    asm volatile("std; rep movsb; cld" : "+D"(d), "+S"(s), "+c"(count)::"memory");
    return destination;
}

int memcmp(const void* a, const void* b, size_t count)
{
    auto const* x = static_cast<const u8*>(a);
    auto const* y = static_cast<const u8*>(b);
    for (size_t i = 0; i < count; ++i)
        if (x[i] != y[i])
            return x[i] < y[i] ? -1 : 1;
    return 0;
}

size_t strlen(const char* text)
{
    size_t length = 0;
    while (text[length])
        ++length;
    return length;
}

}
