#pragma once
// A whole file into memory, for the hosted tools; empty when it cannot be read.
#include <cstdio>
#include <rt/types.h>
#include <vector>

namespace tools {

inline std::vector<u8> read_file(const char* path)
{
    std::vector<u8> bytes;
    FILE* f = std::fopen(path, "rb");
    if (!f)
        return bytes;
    std::fseek(f, 0, SEEK_END);
    bytes.resize(size_t(std::ftell(f)));
    std::fseek(f, 0, SEEK_SET);
    if (std::fread(bytes.data(), 1, bytes.size(), f) != bytes.size())
        bytes.clear();
    std::fclose(f);
    return bytes;
}

}
