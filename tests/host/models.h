#pragma once
// Access to the real model files for host tests: $BAREFLOW_MODELS (or models/ in the
// repo), else the default model shipped in app/default_model/ (stories260K.bin and
// tok512.bin, so those tests always run). Tests that need other files are skipped, with the
// reason, when they are absent.
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

inline bool read_file(std::string const& path, std::vector<u8>& out)
{
    std::FILE* file = std::fopen(path.c_str(), "rb");
    if (!file)
        return false;
    std::fseek(file, 0, SEEK_END);
    out.resize(size_t(std::ftell(file)));
    std::fseek(file, 0, SEEK_SET);
    bool ok = std::fread(out.data(), 1, out.size(), file) == out.size();
    std::fclose(file);
    return ok;
}

inline bool read_model_file(std::string const& name, std::vector<u8>& out)
{
    if (read_file(models_directory() + "/" + name, out))
        return true;
#ifdef BAREFLOW_SHIPPED_MODELS
    return read_file(std::string(BAREFLOW_SHIPPED_MODELS) + "/" + name, out);
#else
    return false;
#endif
}

// A file of tests/host (BAREFLOW_TEST_SOURCES, set by the build) as text: test data the
// shell and Python tests share (the chat templates written in real ones' shapes).
#ifdef BAREFLOW_TEST_SOURCES
inline std::string test_source(std::string const& name)
{
    std::vector<u8> bytes;
    if (!read_file(std::string(BAREFLOW_TEST_SOURCES) + "/" + name, bytes))
        return "";
    return std::string(bytes.begin(), bytes.end());
}
#endif

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
