#include <gtest/gtest.h>
#include <cstring>
#include <rt/multiboot2.h>
#include <string>
#include <vector>

namespace {

// Builds a Multiboot2 information block the way a boot loader lays it out.
class InfoBuilder {
public:
    InfoBuilder() { put32(0), put32(0); }
    void tag(u32 type, std::vector<u8> const& body)
    {
        put32(type);
        put32(u32(8 + body.size()));
        bytes.insert(bytes.end(), body.begin(), body.end());
        while (bytes.size() % 8)
            bytes.push_back(0);
    }
    void string_tag(u32 type, std::string const& text)
    {
        std::vector<u8> body(text.begin(), text.end());
        body.push_back(0);
        tag(type, body);
    }
    void module(u32 start, u32 end, std::string const& name)
    {
        std::vector<u8> body;
        append32(body, start);
        append32(body, end);
        body.insert(body.end(), name.begin(), name.end());
        body.push_back(0);
        tag(3, body);
    }
    std::vector<u8>& finish()
    {
        tag(0, {});
        u32 size = u32(bytes.size());
        std::memcpy(bytes.data(), &size, 4);
        return bytes;
    }
    static void append32(std::vector<u8>& v, u32 x)
    {
        for (int i = 0; i < 4; ++i)
            v.push_back(u8(x >> (8 * i)));
    }
    static void append64(std::vector<u8>& v, u64 x)
    {
        append32(v, u32(x));
        append32(v, u32(x >> 32));
    }
    std::vector<u8> bytes;

private:
    void put32(u32 x) { append32(bytes, x); }
};

// The parser requires 8-byte alignment, as the spec guarantees; vectors of u64 give it.
struct Aligned {
    explicit Aligned(std::vector<u8> const& b) : words((b.size() + 7) / 8) { std::memcpy(words.data(), b.data(), b.size()); }
    const u8* data() const { return reinterpret_cast<const u8*>(words.data()); }
    std::vector<u64> words;
};

std::string message(rt::ErrorOr<void>& r) { return std::string(r.error().message().data(), r.error().message().length()); }
std::string text(rt::StringView view) { return std::string(view.data(), view.length()); }

TEST(Multiboot2, ParsesAWellFormedBlock)
{
    InfoBuilder b;
    b.string_tag(1, "prompt=\"hi\" steps=3");
    b.string_tag(2, "GRUB 2.06");
    b.module(0x400000, 0x500000, "model");
    b.module(0x500000, 0x501000, "tokenizer");
    std::vector<u8> mmap;
    InfoBuilder::append32(mmap, 24);
    InfoBuilder::append32(mmap, 0);
    InfoBuilder::append64(mmap, 0), InfoBuilder::append64(mmap, 0x9FC00), InfoBuilder::append32(mmap, 1), InfoBuilder::append32(mmap, 0);
    InfoBuilder::append64(mmap, 0x100000), InfoBuilder::append64(mmap, 0x7EE0000), InfoBuilder::append32(mmap, 1), InfoBuilder::append32(mmap, 0);
    b.tag(6, mmap);
    std::vector<u8> fb;
    InfoBuilder::append64(fb, 0xFD000000);
    InfoBuilder::append32(fb, 4096), InfoBuilder::append32(fb, 1024), InfoBuilder::append32(fb, 768);
    fb.push_back(32), fb.push_back(1), fb.push_back(0), fb.push_back(0);
    for (u8 x : { 16, 8, 8, 8, 0, 8 })
        fb.push_back(x);
    b.tag(8, fb);
    Aligned info(b.finish());

    rt::multiboot2::BootInfo out;
    auto r = rt::multiboot2::parse(info.data(), b.bytes.size(), out);
    ASSERT_FALSE(r.is_error()) << message(r);
    EXPECT_EQ(text(out.command_line), "prompt=\"hi\" steps=3");
    EXPECT_STREQ(out.loader_name, "GRUB 2.06");
    ASSERT_EQ(out.module_count, 2u);
    EXPECT_EQ(out.modules[1].size(), 0x1000u);
    ASSERT_NE(out.find_module("tokenizer"), nullptr);
    EXPECT_EQ(out.find_module("tokenizer")->start, 0x500000u);
    EXPECT_EQ(out.find_module("weights"), nullptr);
    ASSERT_EQ(out.memory_entry_count, 2u);
    EXPECT_EQ(out.memory_map[1].base, 0x100000u);
    EXPECT_EQ(out.memory_map[1].length, 0x7EE0000u);
    EXPECT_TRUE(out.framebuffer.present);
    EXPECT_EQ(out.framebuffer.width, 1024u);
    EXPECT_EQ(out.framebuffer.red_position, 16);
    EXPECT_EQ(out.framebuffer.blue_size, 8);
}

// GRUB passes command lines of any length; one cut short would be parsed as if whole
// ("steps=100" read as "steps=10", a long prompt's closing quote lost).
TEST(Multiboot2, LongCommandLineArrivesWhole)
{
    std::string line = "prompt=\"" + std::string(1500, 'a') + "\" steps=100";
    InfoBuilder b;
    b.string_tag(1, line);
    Aligned info(b.finish());
    rt::multiboot2::BootInfo out;
    auto r = rt::multiboot2::parse(info.data(), b.bytes.size(), out);
    ASSERT_FALSE(r.is_error()) << message(r);
    EXPECT_EQ(text(out.command_line), line);
}

TEST(Multiboot2, MemoryMapIsSteppedByEntrySize)
{
    InfoBuilder b;
    std::vector<u8> mmap;
    InfoBuilder::append32(mmap, 32); // a future, larger entry
    InfoBuilder::append32(mmap, 0);
    for (u64 base : { 0x1000ull, 0x200000ull }) {
        InfoBuilder::append64(mmap, base), InfoBuilder::append64(mmap, 0x1000), InfoBuilder::append32(mmap, 1), InfoBuilder::append32(mmap, 0);
        InfoBuilder::append64(mmap, 0xDEADDEADDEADDEADull);
    }
    b.tag(6, mmap);
    Aligned info(b.finish());
    rt::multiboot2::BootInfo out;
    ASSERT_FALSE(rt::multiboot2::parse(info.data(), b.bytes.size(), out).is_error());
    ASSERT_EQ(out.memory_entry_count, 2u);
    EXPECT_EQ(out.memory_map[1].base, 0x200000u);
}

// A UEFI machine's map, as GRUB passes it: many adjacent entries of one type (the firmware's
// boot-services memory next to free memory, both usable), which are joined; more distinct
// entries than BootInfo keeps are counted as left out, never silently dropped.
TEST(Multiboot2, MemoryMapJoinsNeighboursAndCountsWhatItCannotKeep)
{
    auto parse_map = [](std::vector<std::pair<u64, u32>> const& ranges, rt::multiboot2::BootInfo& out) {
        InfoBuilder b;
        std::vector<u8> mmap;
        InfoBuilder::append32(mmap, 24);
        InfoBuilder::append32(mmap, 0);
        u64 base = 0;
        for (auto [length, type] : ranges) {
            InfoBuilder::append64(mmap, base), InfoBuilder::append64(mmap, length), InfoBuilder::append32(mmap, type), InfoBuilder::append32(mmap, 0);
            base += length;
        }
        b.tag(6, mmap);
        Aligned info(b.finish());
        return rt::multiboot2::parse(info.data(), b.bytes.size(), out);
    };
    rt::multiboot2::BootInfo joined;
    ASSERT_FALSE(parse_map({ { 0x1000, 1 }, { 0x2000, 1 }, { 0x1000, 2 }, { 0x1000, 2 }, { 0x4000, 1 } }, joined).is_error());
    ASSERT_EQ(joined.memory_entry_count, 3u);
    EXPECT_EQ(joined.memory_map[0].length, 0x3000u);
    EXPECT_EQ(joined.memory_map[1].base, 0x3000u);
    EXPECT_EQ(joined.memory_map[1].length, 0x2000u);
    EXPECT_EQ(joined.memory_map[2].length, 0x4000u);
    EXPECT_EQ(joined.memory_entries_left_out, 0u);

    // An entry that runs past 2^64 is refused, not wrapped around to address 0.
    rt::multiboot2::BootInfo wrapping;
    auto refused = parse_map({ { 0x1000, 1 }, { ~0ull - 0x800, 1 } }, wrapping);
    ASSERT_TRUE(refused.is_error());
    EXPECT_EQ(message(refused), "multiboot2: memory map entry at offset 48 (0x1000 + 0xfffffffffffff7ff bytes) runs past the end of the address space");

    // Alternating types: nothing to join, 300 entries.
    std::vector<std::pair<u64, u32>> alternating;
    for (u32 i = 0; i < 300; ++i)
        alternating.push_back({ 0x1000, i % 2 ? 2u : 1u });
    rt::multiboot2::BootInfo cut;
    ASSERT_FALSE(parse_map(alternating, cut).is_error());
    EXPECT_EQ(cut.memory_entry_count, rt::multiboot2::BootInfo::max_memory_entries);
    EXPECT_EQ(cut.memory_entries_left_out, 300u - rt::multiboot2::BootInfo::max_memory_entries);
}

TEST(Multiboot2, RejectsMalformedBlocks)
{
    rt::multiboot2::BootInfo out;
    {
        auto r = rt::multiboot2::parse(nullptr, 100, out);
        EXPECT_TRUE(r.is_error());
    }
    {
        InfoBuilder b;
        b.string_tag(1, "x");
        Aligned info(b.finish());
        auto r = rt::multiboot2::parse(info.data(), b.bytes.size() - 8, out); // total_size beyond what is readable
        ASSERT_TRUE(r.is_error());
        EXPECT_NE(message(r).find("total_size"), std::string::npos);
    }
    {
        InfoBuilder b;
        b.string_tag(1, "abc");
        auto& bytes = b.finish();
        bytes[12] = 200; // the command-line tag claims to be longer than the block
        Aligned info(bytes);
        auto r = rt::multiboot2::parse(info.data(), bytes.size(), out);
        ASSERT_TRUE(r.is_error());
        EXPECT_NE(message(r).find("tag 1 at offset 8"), std::string::npos);
    }
    {
        InfoBuilder b;
        b.tag(1, { 'a', 'b', 'c' }); // no NUL inside the tag
        Aligned info(b.finish());
        auto r = rt::multiboot2::parse(info.data(), b.bytes.size(), out);
        ASSERT_TRUE(r.is_error());
        EXPECT_NE(message(r).find("NUL"), std::string::npos);
    }
    {
        InfoBuilder b;
        b.module(0x500000, 0x400000, "backwards");
        Aligned info(b.finish());
        EXPECT_TRUE(rt::multiboot2::parse(info.data(), b.bytes.size(), out).is_error());
    }
    {
        InfoBuilder b;
        std::vector<u8> mmap;
        InfoBuilder::append32(mmap, 3); // entry size smaller than an entry
        InfoBuilder::append32(mmap, 0);
        b.tag(6, mmap);
        Aligned info(b.finish());
        EXPECT_TRUE(rt::multiboot2::parse(info.data(), b.bytes.size(), out).is_error());
    }
    {
        InfoBuilder b;
        b.string_tag(1, "x");
        auto& bytes = b.finish();
        bytes.resize(bytes.size() - 8); // drop the end tag
        u32 size = u32(bytes.size());
        std::memcpy(bytes.data(), &size, 4);
        Aligned info(bytes);
        auto r = rt::multiboot2::parse(info.data(), bytes.size(), out);
        ASSERT_TRUE(r.is_error());
        EXPECT_NE(message(r).find("end tag"), std::string::npos);
    }
    {
        InfoBuilder b;
        b.tag(3, { 1, 2, 3 }); // module tag too short
        Aligned info(b.finish());
        EXPECT_TRUE(rt::multiboot2::parse(info.data(), b.bytes.size(), out).is_error());
    }
}

TEST(Multiboot2, TooManyModules)
{
    InfoBuilder b;
    for (int i = 0; i < 9; ++i)
        b.module(0x100000 * (i + 1), 0x100000 * (i + 1) + 16, "m");
    Aligned info(b.finish());
    rt::multiboot2::BootInfo out;
    EXPECT_TRUE(rt::multiboot2::parse(info.data(), b.bytes.size(), out).is_error());
}

}
