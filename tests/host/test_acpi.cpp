#include <cstring>
#include <gtest/gtest.h>
#include <rt/acpi.h>
#include <string>
#include <sys/mman.h>
#include <vector>

namespace {

void fix_checksum(u8* data, size_t length, size_t checksum_offset)
{
    data[checksum_offset] = 0;
    u8 sum = 0;
    for (size_t i = 0; i < length; ++i)
        sum = u8(sum + data[i]);
    data[checksum_offset] = u8(-sum);
}

// A system description table: signature, length, and a checksum that makes it valid.
std::vector<u8> table(const char* signature, std::vector<u8> const& body)
{
    std::vector<u8> t(36 + body.size());
    std::memcpy(t.data(), signature, 4);
    u32 length = u32(t.size());
    std::memcpy(t.data() + 4, &length, 4);
    std::memcpy(t.data() + 36, body.data(), body.size());
    fix_checksum(t.data(), t.size(), 9);
    return t;
}

void put32(std::vector<u8>& v, u32 x)
{
    for (int i = 0; i < 4; ++i)
        v.push_back(u8(x >> (8 * i)));
}
void put64(std::vector<u8>& v, u64 x)
{
    put32(v, u32(x));
    put32(v, u32(x >> 32));
}

struct Fixture {
    std::vector<u8> madt, xsdt, rsdp;
    Fixture(bool third_disabled = true)
    {
        std::vector<u8> body;
        put32(body, 0xFEE00000);
        put32(body, 1);
        for (u8 id : { 0, 2, 5 }) {
            body.insert(body.end(), { 0, 8, id, id });
            put32(body, id == 5 && third_disabled ? 0 : 1);
        }
        body.insert(body.end(), { 1, 12, 0, 0, 0, 0, 0xC0, 0xFE, 0, 0, 0, 0 }); // an I/O APIC: skipped
        madt = table("APIC", body);
        std::vector<u8> entries;
        put64(entries, uptr(madt.data()));
        xsdt = table("XSDT", entries);
        rsdp.assign(36, 0);
        std::memcpy(rsdp.data(), "RSD PTR ", 8);
        rsdp[15] = 2;
        u32 length = 36;
        std::memcpy(rsdp.data() + 20, &length, 4);
        u64 xsdt_address = uptr(xsdt.data());
        std::memcpy(rsdp.data() + 24, &xsdt_address, 8);
        fix_checksum(rsdp.data(), 20, 8);
        fix_checksum(rsdp.data(), 36, 32);
    }
};

TEST(Acpi, MadtThroughXsdt)
{
    Fixture f;
    auto topology = rt::acpi::topology_from_rsdp(f.rsdp.data(), f.rsdp.size(), UINT64_MAX);
    ASSERT_FALSE(topology.is_error()) << std::string(topology.error().message().data(), topology.error().message().length());
    auto const& t = topology.value();
    ASSERT_EQ(t.count, 3u);
    EXPECT_EQ(t.local_apic_address, 0xFEE00000u);
    EXPECT_EQ(t.processors[1].apic_id, 2u);
    EXPECT_TRUE(t.processors[1].enabled);
    EXPECT_FALSE(t.processors[2].enabled);
}

TEST(Acpi, BadChecksumsAndSignaturesAreRefused)
{
    Fixture f;
    f.madt[20] ^= 0xFF; // corrupt the MADT: its checksum no longer holds
    auto topology = rt::acpi::topology_from_rsdp(f.rsdp.data(), f.rsdp.size(), UINT64_MAX);
    EXPECT_TRUE(topology.is_error());
    Fixture g;
    g.rsdp[0] = 'X';
    EXPECT_TRUE(rt::acpi::topology_from_rsdp(g.rsdp.data(), g.rsdp.size(), UINT64_MAX).is_error());
    Fixture h;
    EXPECT_TRUE(rt::acpi::topology_from_rsdp(h.rsdp.data(), h.rsdp.size(), 4096).is_error()); // tables out of reach
}

TEST(Acpi, FindsAlignedStructures)
{
    std::vector<u8> area(256, 0);
    std::memcpy(area.data() + 48, "_MP_", 4);
    fix_checksum(area.data() + 48, 16, 10);
    EXPECT_EQ(rt::acpi::find_structure(area.data(), area.size(), "_MP_", 16), area.data() + 48);
    area[50] ^= 1;
    EXPECT_EQ(rt::acpi::find_structure(area.data(), area.size(), "_MP_", 16), nullptr);
}

TEST(Acpi, MpTablesFallback)
{
    // Configuration table: 44-byte header, two processors (one disabled), one bus.
    std::vector<u8> config(44, 0);
    std::memcpy(config.data(), "PCMP", 4);
    std::vector<u8> entries = { 0, 0, 0x14, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                0, 7, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                1, 0, 'P', 'C', 'I', ' ', ' ', ' ' };
    config.insert(config.end(), entries.begin(), entries.end());
    u16 length = u16(config.size()), count = 3;
    std::memcpy(config.data() + 4, &length, 2);
    std::memcpy(config.data() + 34, &count, 2);
    u32 lapic = 0xFEE00000;
    std::memcpy(config.data() + 36, &lapic, 4);
    fix_checksum(config.data(), config.size(), 7);
    // The floating pointer holds a 32-bit address: put the table in the low 2 GiB.
    auto* low_table = static_cast<u8*>(mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0));
    ASSERT_NE(low_table, MAP_FAILED);
    std::memcpy(low_table, config.data(), config.size());
    std::vector<u8> pointer(16, 0);
    std::memcpy(pointer.data(), "_MP_", 4);
    u32 address = u32(uptr(low_table));
    std::memcpy(pointer.data() + 4, &address, 4);
    fix_checksum(pointer.data(), 16, 10);
    auto topology = rt::acpi::topology_from_mp_tables(pointer.data(), UINT64_MAX);
    ASSERT_FALSE(topology.is_error());
    ASSERT_EQ(topology.value().count, 2u);
    EXPECT_TRUE(topology.value().processors[0].enabled);
    EXPECT_EQ(topology.value().processors[1].apic_id, 7u);
    EXPECT_FALSE(topology.value().processors[1].enabled);
}

}
