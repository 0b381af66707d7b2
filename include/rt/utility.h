#pragma once
#include <rt/types.h>

#if __STDC_HOSTED__
#    include <new>
#else
inline void* operator new(size_t, void* where) noexcept { return where; }
#endif

namespace rt {

template<typename T> struct RemoveReference { using Type = T; };
template<typename T> struct RemoveReference<T&> { using Type = T; };
template<typename T> struct RemoveReference<T&&> { using Type = T; };

template<typename T>
constexpr typename RemoveReference<T>::Type&& move(T&& value)
{
    return static_cast<typename RemoveReference<T>::Type&&>(value);
}

template<typename T>
constexpr T&& forward(typename RemoveReference<T>::Type& value)
{
    return static_cast<T&&>(value);
}

template<typename T>
constexpr T min(T a, T b) { return b < a ? b : a; }
template<typename T>
constexpr T max(T a, T b) { return a < b ? b : a; }

constexpr u64 align_up(u64 value, u64 alignment) { return (value + alignment - 1) & ~(alignment - 1); }
constexpr bool is_power_of_two(u64 v) { return v && !(v & (v - 1)); }

}
