#pragma once
// Fixed-width integer names used across the runtime and the app. We rely only on
// compiler-provided headers, so this works freestanding and hosted alike.
#include <stddef.h>
#include <stdint.h>

using u8 = uint8_t;
using u16 = uint16_t;
using u32 = uint32_t;
using u64 = uint64_t;
using i8 = int8_t;
using i16 = int16_t;
using i32 = int32_t;
using i64 = int64_t;
using uptr = uintptr_t;
using f32 = float;
using f64 = double;
