#pragma once
// Writes GGUF files (version 3, numbers little-endian as x86 stores them): the one writer
// behind bareflow-convert-gguf and the host tests' hand-made files. Fields go into a
// buffer in file order (metadata pairs, then tensor infos); file_start() puts the magic,
// version and counts in front, and write() appends the tensors' data, each padded to the
// alignment. Host code only (std::vector, stdio).
#include "../llm/gguf.h"
#include <cstdio>
#include <string>
#include <vector>

namespace tools {

class GgufWriter {
public:
    using ValueType = llm::gguf::ValueType;
    // Tensor data starts and ends on this boundary; files say so in general.alignment.
    static constexpr u64 alignment = 32;
    static u64 padded(u64 bytes) { return (bytes + alignment - 1) / alignment * alignment; }

    // ---- plain fields (tests use them alone to build broken files) ----
    void raw(const void* data, size_t size)
    {
        auto const* bytes = static_cast<const u8*>(data);
        m_bytes.insert(m_bytes.end(), bytes, bytes + size);
    }
    template<typename T>
    void put(T value) { raw(&value, sizeof value); }
    void string(std::string const& s) { put<u64>(s.size()), raw(s.data(), s.size()); }

    // ---- metadata pairs, counted ----
    void kv_u32(std::string const& key, u32 value) { pair(key, ValueType::UInt32), put<u32>(value); }
    void kv_f32(std::string const& key, float value) { pair(key, ValueType::Float32), put<float>(value); }
    void kv_bool(std::string const& key, bool value) { pair(key, ValueType::Bool), put<u8>(value); }
    void kv_string(std::string const& key, std::string const& value) { pair(key, ValueType::String), string(value); }
    // An array's header: the caller writes its `count` elements next.
    void kv_array(std::string const& key, ValueType element_type, u64 count)
    {
        pair(key, ValueType::Array), put<u32>(u32(element_type)), put<u64>(count);
    }
    void kv_strings(std::string const& key, std::vector<std::string> const& values)
    {
        kv_array(key, ValueType::String, values.size());
        for (auto const& value : values)
            string(value);
    }
    template<typename T>
    void kv_numbers(std::string const& key, ValueType element_type, std::vector<T> const& values)
    {
        kv_array(key, element_type, values.size());
        for (T value : values)
            put<T>(value);
    }

    // ---- tensor infos, counted: dims[0] is the row length, `offset` from the data's start ----
    void tensor_info(std::string const& name, std::vector<u64> const& dims, u32 type, u64 offset)
    {
        string(name), put<u32>(u32(dims.size()));
        for (u64 d : dims)
            put<u64>(d);
        put<u32>(type), put<u64>(offset);
        ++m_tensors;
    }

    std::vector<u8> const& fields() const { return m_bytes; }
    u64 pair_count() const { return m_pairs; }
    u64 tensor_count() const { return m_tensors; }

    // The file up to its tensor data: magic, version 3, the counts (given, so tests can
    // make them lie), the fields and zeros up to the alignment.
    std::vector<u8> file_start(u64 tensor_count, u64 pair_count) const
    {
        GgufWriter start;
        start.raw("GGUF", 4);
        start.put<u32>(3);
        start.put<u64>(tensor_count), start.put<u64>(pair_count);
        start.raw(m_bytes.data(), m_bytes.size());
        start.m_bytes.resize(size_t(padded(start.m_bytes.size())), 0);
        return start.m_bytes;
    }
    std::vector<u8> file_start() const { return file_start(m_tensors, m_pairs); }

    // The whole file: file_start() and each tensor's data, padded, in the order of the
    // tensor infos (whose offsets the caller advanced by padded() sizes).
    bool write(FILE* file, std::vector<std::vector<u8>> const& tensor_data) const
    {
        static const u8 zeros[alignment] = {};
        auto start = file_start();
        bool ok = fwrite(start.data(), 1, start.size(), file) == start.size();
        for (auto const& data : tensor_data) {
            size_t pad = size_t(padded(data.size()) - data.size());
            ok = ok && fwrite(data.data(), 1, data.size(), file) == data.size();
            ok = ok && fwrite(zeros, 1, pad, file) == pad;
        }
        return ok;
    }

private:
    void pair(std::string const& key, ValueType type) { string(key), put<u32>(u32(type)), ++m_pairs; }

    std::vector<u8> m_bytes;
    u64 m_pairs { 0 };
    u64 m_tensors { 0 };
};

}
