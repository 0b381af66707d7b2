#include <gtest/gtest.h>
#include <cstring>
#include <rt/module_check.h>
#include <string>

namespace {

std::string message(rt::ErrorOr<void> const& r) { return r.is_error() ? std::string(r.error().message().data(), r.error().message().length()) : ""; }

// A 64 MiB machine (one usable range, one reserved) with the given modules loaded.
rt::multiboot2::BootInfo machine(std::initializer_list<std::pair<const char*, u32>> modules)
{
    rt::multiboot2::BootInfo info;
    info.memory_map[0] = { 0x100000, 63ull << 20, u32(rt::multiboot2::MemoryType::Available) };
    info.memory_map[1] = { 0xFEC00000, 1ull << 20, u32(rt::multiboot2::MemoryType::Reserved) };
    info.memory_entry_count = 2;
    u32 at = 0x400000;
    for (auto const& [name, size] : modules) {
        auto& module = info.modules[info.module_count++];
        module.start = size ? at : 0; // GRUB hands an empty file over at address 0
        module.end = module.start + size;
        std::strcpy(module.name, name);
        at += (size + 4095) & ~4095u;
    }
    return info;
}

TEST(ModuleCheck, AllRecordedModulesPresent)
{
    auto info = machine({ { "model", 1056512 }, { "tokenizer", 6227 } });
    EXPECT_EQ(rt::multiboot2::usable_memory_bytes(info), 63ull << 20);
    auto r = rt::multiboot2::check_modules(info, "model:1056512,tokenizer:6227");
    EXPECT_FALSE(r.is_error()) << message(r);
    EXPECT_FALSE(rt::multiboot2::check_modules(info, "").is_error()); // a hand-written grub.cfg
}

TEST(ModuleCheck, ModuleGrubCouldNotLoadIsNamedWithItsSizeAndTheMemory)
{
    auto info = machine({ { "tokenizer", 6227 } });
    auto r = rt::multiboot2::check_modules(info, "model:102336540,tokenizer:6227");
    ASSERT_TRUE(r.is_error());
    EXPECT_EQ(message(r), "model: GRUB could not load the \"model\" module: its file is 97 MiB (102336540 bytes) and this machine has 63 MiB of memory");
    // Smaller than memory: GRUB failed for another reason, which its own message gives.
    auto smaller = rt::multiboot2::check_modules(info, "model:20000000");
    ASSERT_TRUE(smaller.is_error());
    EXPECT_NE(message(smaller).find("GRUB could not load the \"model\" module (19 MiB file, 63 MiB of memory"), std::string::npos) << message(smaller);
}

TEST(ModuleCheck, EmptyModuleIsNamed)
{
    auto info = machine({ { "model", 0 }, { "tokenizer", 6227 } });
    auto r = rt::multiboot2::check_modules(info, "model:0,tokenizer:6227");
    ASSERT_TRUE(r.is_error());
    EXPECT_EQ(message(r), "model: the \"model\" module is empty: GRUB loaded a file of 0 bytes");
    EXPECT_TRUE(rt::multiboot2::check_modules(info, "").is_error()); // empty whether recorded or not
}

TEST(ModuleCheck, MalformedRecordIsRefused)
{
    auto info = machine({ { "model", 4096 } });
    for (const char* bad : { "model", ":12", "model:big", "model:-1", "model:12,", "model:12,,tokenizer:3" }) {
        auto r = rt::multiboot2::check_modules(info, bad);
        ASSERT_TRUE(r.is_error()) << bad;
        EXPECT_NE(message(r).find("modules=\""), std::string::npos) << message(r);
    }
}

}
