#pragma once
// GGUF (versions 2 and 3), read in place from the module: header, metadata, tensor infos.
// The file comes from outside, so every count, length and offset is checked against the
// bytes actually present (and against the 32-bit address space) before it is used.
#include "tensor.h"
#include <rt/error.h>
#include <rt/heap.h>

namespace llm::gguf {

enum class ValueType : u32 {
    UInt8 = 0, Int8 = 1, UInt16 = 2, Int16 = 3, UInt32 = 4, Int32 = 5, Float32 = 6, Bool = 7,
    String = 8, Array = 9, UInt64 = 10, Int64 = 11, Float64 = 12,
};

// ggml tensor types this project knows the layout of.
enum class TensorType : u32 { F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, Q2_K = 10, Q3_K = 11, Q4_K = 12, Q5_K = 13, Q6_K = 14, IQ4_NL = 20, IQ4_XS = 23, BF16 = 30 };

struct Value {
    ValueType type;
    const u8* data;         // where the value's bytes start
    ValueType element_type; // arrays only
    u64 count;              // arrays only
};

struct KeyValue {
    rt::StringView key;
    Value value;
};

struct TensorInfo {
    rt::StringView name;
    u32 dimension_count;
    u64 dimensions[4]; // dimensions[0] varies fastest (a row of a matrix)
    TensorType type;
    u64 offset;        // from the start of the tensor data
    u64 bytes;
    const u8* data;
    u64 element_count() const;
};

class File {
public:
    static rt::ErrorOr<File> parse(rt::Bytes);

    u32 version() const { return m_version; }
    rt::Span<const KeyValue> metadata() const { return { m_metadata.data(), m_metadata_count }; }
    rt::Span<const TensorInfo> tensors() const { return { m_tensors.data(), m_tensor_count }; }
    KeyValue const* find(rt::StringView key) const;
    TensorInfo const* tensor(rt::StringView name) const;

    // Typed metadata getters; a missing key or a wrong type is an error naming the key.
    rt::ErrorOr<u64> get_integer(rt::StringView key) const;
    rt::ErrorOr<double> get_float(rt::StringView key) const;
    rt::ErrorOr<rt::StringView> get_string(rt::StringView key) const;
    rt::ErrorOr<Value> get_array(rt::StringView key, ValueType element_type) const;

private:
    u32 m_version { 0 };
    rt::HeapArray<KeyValue> m_metadata;
    rt::HeapArray<TensorInfo> m_tensors;
    size_t m_metadata_count { 0 };
    size_t m_tensor_count { 0 };
};

const char* tensor_type_name(u32 type);
// The ggml types this build computes with, as tensor types (false for the others).
bool tensor_type_of(TensorType ggml, llm::TensorType& type);
// Bytes and elements per block of a tensor type; false for types we cannot read.
bool block_layout(u32 type, u64& block_elements, u64& block_bytes);

// Walks the strings of a string array one by one (each is a u64 length and the bytes).
// The array was checked whole by File::parse, so walking it cannot leave the file.
class StringArrayCursor {
public:
    explicit StringArrayCursor(Value const& array) : m_at(array.data), m_left(array.count) {}
    bool next(rt::StringView& out);

private:
    const u8* m_at;
    u64 m_left;
};

}
