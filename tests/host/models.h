#pragma once
// Access to the real model files for host tests: $BAREFLOW_MODELS (or models/ in the
// repo). Tests that need them are skipped, with the reason, when they are absent.
#include <cstdio>
#include <cstdlib>
#include <rt/heap.h>
#include <string>
#include <vector>

namespace testing_support {

inline std::string models_directory()
{
    const char* env = std::getenv("BAREFLOW_MODELS");
    return env ? env : "models";
}

inline bool read_model_file(std::string const& name, std::vector<u8>& out)
{
    std::FILE* file = std::fopen((models_directory() + "/" + name).c_str(), "rb");
    if (!file)
        return false;
    std::fseek(file, 0, SEEK_END);
    out.resize(size_t(std::ftell(file)));
    std::fseek(file, 0, SEEK_SET);
    bool ok = std::fread(out.data(), 1, out.size(), file) == out.size();
    std::fclose(file);
    return ok;
}

// Gives the global heap a fresh arena of `bytes` for one test.
class ScopedHeap {
public:
    explicit ScopedHeap(size_t bytes) : m_memory(bytes + 64)
    {
        rt::MemoryRange usable[] = { { uptr(m_memory.data()), bytes } };
        rt::Heap::the().initialize(usable, {}, UINT64_MAX);
    }

private:
    std::vector<u8> m_memory;
};

}

#define REQUIRE_MODEL_FILE(name, vector)                                                                     \
    if (!testing_support::read_model_file(name, vector))                                                     \
        GTEST_SKIP() << name << " not found in " << testing_support::models_directory() << " (set BAREFLOW_MODELS)";
