#pragma once
// Builds GGUF files in memory for the host tests.
#include <rt/types.h>
#include <cstring>
#include <string>
#include <vector>

namespace testing_support {

// Writes GGUF files for the tests, field by field.
class GgufBuilder {
public:
    GgufBuilder(u32 version = 3) { put32(0x46554747), put32(version); }
    template<typename T>
    void raw(T value)
    {
        u8 b[sizeof(T)];
        std::memcpy(b, &value, sizeof(T));
        header.insert(header.end(), b, b + sizeof(T));
    }
    void put32(u32 v) { raw(v); }
    void put64(u64 v) { raw(v); }
    void string(std::string const& s) { put64(s.size()), header.insert(header.end(), s.begin(), s.end()); }
    void kv_u32(std::string const& key, u32 v) { string(key), put32(4), put32(v); }
    void kv_string(std::string const& key, std::string const& v) { string(key), put32(8), string(v); }
    void kv_strings(std::string const& key, std::vector<std::string> const& values)
    {
        string(key), put32(9), put32(8), put64(values.size());
        for (auto const& v : values)
            string(v);
    }
    template<typename T>
    void kv_numbers(std::string const& key, u32 element_type, std::vector<T> const& values)
    {
        string(key), put32(9), put32(element_type), put64(values.size());
        for (T v : values)
            raw(v);
    }
    void tensor(std::string const& name, std::vector<u64> dims, u32 type, u64 offset)
    {
        string(name), put32(u32(dims.size()));
        for (u64 d : dims)
            put64(d);
        put32(type), put64(offset);
    }
    // Header fields after magic and version: counts, then what was added.
    std::vector<u8> build(u64 tensors, u64 kvs, std::vector<u8> const& body, size_t data_bytes)
    {
        std::vector<u8> out(header.begin(), header.begin() + 8);
        auto append64 = [&](u64 v) { for (int i = 0; i < 8; ++i) out.push_back(u8(v >> (8 * i))); };
        append64(tensors), append64(kvs);
        out.insert(out.end(), body.begin(), body.end());
        while (out.size() % 32)
            out.push_back(0);
        out.resize(out.size() + data_bytes, 0x11);
        return out;
    }
    std::vector<u8> header;
};

}
