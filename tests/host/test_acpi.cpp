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
    if (!body.empty()) // memcpy from an empty vector's null data is undefined
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

// MADT entries: a processor's local APIC (ids below 255) and local x2APIC.
void local_apic(std::vector<u8>& entries, u8 id, bool enabled)
{
    entries.insert(entries.end(), { 0, 8, id, id });
    put32(entries, enabled ? 1 : 0);
}
void local_x2apic(std::vector<u8>& entries, u32 id, bool enabled)
{
    entries.insert(entries.end(), { 9, 16, 0, 0 });
    put32(entries, id);
    put32(entries, enabled ? 1 : 0);
    put32(entries, id); // ACPI processor UID
}

std::vector<u8> three_processors(bool third_disabled)
{
    std::vector<u8> entries;
    for (u8 id : { 0, 2, 5 })
        local_apic(entries, id, !(id == 5 && third_disabled));
    entries.insert(entries.end(), { 1, 12, 0, 0, 0, 0, 0xC0, 0xFE, 0, 0, 0, 0 }); // an I/O APIC: skipped
    return entries;
}

struct Fixture {
    std::vector<u8> madt, xsdt, rsdp;
    Fixture(bool third_disabled = true) : Fixture(three_processors(third_disabled)) { }
    explicit Fixture(std::vector<u8> const& madt_entries)
    {
        std::vector<u8> body;
        put32(body, 0xFEE00000);
        put32(body, 1);
        body.insert(body.end(), madt_entries.begin(), madt_entries.end());
        madt = table("APIC", body);
        std::vector<u8> tables;
        put64(tables, uptr(madt.data()));
        xsdt = table("XSDT", tables);
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

rt::acpi::Topology topology_of(std::vector<u8> const& entries)
{
    Fixture f(entries);
    auto topology = rt::acpi::topology_from_rsdp(f.rsdp.data(), f.rsdp.size(), UINT64_MAX);
    EXPECT_FALSE(topology.is_error());
    return topology.is_error() ? rt::acpi::Topology {} : topology.value();
}

TEST(Acpi, AProcessorListedTwiceIsKeptOnce)
{
    // Firmware that lists every processor as a local APIC and again as a local x2APIC:
    // starting the same core twice would reset it while it works.
    std::vector<u8> entries;
    local_apic(entries, 0, true);
    local_apic(entries, 1, false);
    local_x2apic(entries, 0, true);
    local_x2apic(entries, 1, true); // enabled in either entry: enabled
    auto t = topology_of(entries);
    ASSERT_EQ(t.count, 2u);
    EXPECT_EQ(t.listed, 4u);
    EXPECT_EQ(t.processors[0].apic_id, 0u);
    EXPECT_EQ(t.processors[1].apic_id, 1u);
    EXPECT_TRUE(t.processors[1].enabled);
}

TEST(Acpi, X2apicIdsBeyondXapicReachAreKept)
{
    std::vector<u8> entries;
    local_apic(entries, 0, true);
    local_x2apic(entries, 255, true);
    local_x2apic(entries, 4096, true);
    auto t = topology_of(entries);
    ASSERT_EQ(t.count, 3u);
    EXPECT_EQ(t.processors[1].apic_id, 255u);
    EXPECT_EQ(t.processors[2].apic_id, 4096u);
}

TEST(Acpi, EnabledProcessorsAreNotCrowdedOutByPlaceholders)
{
    // Disabled entries for every core a board could hold, then the ones present.
    std::vector<u8> entries;
    for (u32 id = 100; id < 100 + rt::acpi::Topology::max_processors + 6; ++id)
        local_x2apic(entries, id, false);
    local_apic(entries, 0, true);
    local_apic(entries, 1, true);
    auto t = topology_of(entries);
    EXPECT_EQ(t.count, rt::acpi::Topology::max_processors);
    EXPECT_EQ(t.listed, rt::acpi::Topology::max_processors + 8);
    size_t enabled = 0;
    bool found[2] = {};
    for (size_t i = 0; i < t.count; ++i) {
        enabled += t.processors[i].enabled;
        if (t.processors[i].apic_id < 2)
            found[t.processors[i].apic_id] = t.processors[i].enabled;
    }
    EXPECT_EQ(enabled, 2u);
    EXPECT_TRUE(found[0] && found[1]);
}

TEST(Acpi, TableListedOnlyInTheRsdtIsFound)
{
    // The XSDT is valid but lists nothing; the RSDT (32-bit entries, so in low memory) has the MADT.
    Fixture f;
    auto* low = static_cast<u8*>(mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0));
    ASSERT_NE(low, MAP_FAILED);
    std::memcpy(low, f.madt.data(), f.madt.size());
    std::vector<u8> entries;
    put32(entries, u32(uptr(low)));
    auto rsdt = table("RSDT", entries);
    std::memcpy(low + 2048, rsdt.data(), rsdt.size());
    auto empty_xsdt = table("XSDT", {});
    u32 rsdt_address = u32(uptr(low + 2048));
    u64 xsdt_address = uptr(empty_xsdt.data());
    std::memcpy(f.rsdp.data() + 16, &rsdt_address, 4);
    std::memcpy(f.rsdp.data() + 24, &xsdt_address, 8);
    fix_checksum(f.rsdp.data(), 20, 8);
    fix_checksum(f.rsdp.data(), 36, 32);
    auto topology = rt::acpi::topology_from_rsdp(f.rsdp.data(), f.rsdp.size(), UINT64_MAX);
    ASSERT_FALSE(topology.is_error()) << std::string(topology.error().message().data(), topology.error().message().length());
    EXPECT_EQ(topology.value().count, 3u);
    munmap(low, 4096);
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


// --- Power-off: the FADT's PM1 control blocks and the DSDT's \_S5 package. ---

std::string text(rt::Error const& error) { return std::string(error.message().data(), error.message().length()); }

// `Name (_S5, Package (4) { a, b, Zero, Zero })` with a and b already AML-encoded.
std::vector<u8> s5_definition(std::vector<u8> const& a, std::vector<u8> const& b, bool root_prefix = false)
{
    std::vector<u8> aml = { 0x08 };
    if (root_prefix)
        aml.push_back(0x5C);
    aml.insert(aml.end(), { '_', 'S', '5', '_', 0x12, 0, 4 });
    aml.insert(aml.end(), a.begin(), a.end());
    aml.insert(aml.end(), b.begin(), b.end());
    aml.insert(aml.end(), { 0x00, 0x00 });
    aml[root_prefix ? 7 : 6] = u8(aml.size() - (root_prefix ? 7 : 6)); // PkgLength counts itself
    return aml;
}

// An FADT of `length` bytes (116: ACPI 1.0; 244: ACPI 2+ with the extended fields).
std::vector<u8> fadt(u32 length, u32 pm1a, u32 pm1b, u32 dsdt32, u64 x_dsdt = 0, u64 x_pm1a = 0)
{
    std::vector<u8> body(length - 36, 0);
    auto put = [&](size_t offset, u64 value, int bytes) {
        for (int i = 0; i < bytes; ++i)
            body[offset - 36 + i] = u8(value >> (8 * i));
    };
    put(40, dsdt32, 4);
    put(48, 0xB2, 4); // SMI_CMD
    put(52, 0xF1, 1); // ACPI_ENABLE
    put(64, pm1a, 4);
    put(68, pm1b, 4);
    if (length >= 244) {
        put(140, x_dsdt, 8);
        put(172, 1, 1); // X_PM1a_CNT_BLK: system I/O space
        put(176, x_pm1a, 8);
    }
    return table("FACP", body);
}

// An RSDP (revision 2) whose XSDT lists `tables`.
struct AcpiTables {
    std::vector<u8> xsdt, rsdp;
    explicit AcpiTables(std::vector<std::vector<u8>*> const& tables)
    {
        std::vector<u8> entries;
        for (auto* t : tables)
            put64(entries, uptr(t->data()));
        xsdt = table("XSDT", entries);
        rsdp.assign(36, 0);
        std::memcpy(rsdp.data(), "RSD PTR ", 8);
        rsdp[15] = 2;
        u64 xsdt_address = uptr(xsdt.data());
        std::memcpy(rsdp.data() + 24, &xsdt_address, 8);
        fix_checksum(rsdp.data(), 20, 8);
        fix_checksum(rsdp.data(), 36, 32);
    }
    rt::ErrorOr<rt::acpi::SoftOff> soft_off() { return rt::acpi::soft_off_from_rsdp(rsdp.data(), rsdp.size(), UINT64_MAX); }
};

// --- The PM timer: the FADT's PM_TMR_BLK (or X_PM_TMR_BLK), its width, its absence. ---

// Sets FADT field bytes (the checksum made again).
void set_fadt_field(std::vector<u8>& facp, size_t offset, u64 value, int bytes)
{
    for (int i = 0; i < bytes; ++i)
        facp[offset + i] = u8(value >> (8 * i));
    fix_checksum(facp.data(), facp.size(), 9);
}

rt::ErrorOr<rt::acpi::PmTimer> pm_timer_of(std::vector<u8>& facp)
{
    AcpiTables tables({ &facp });
    return rt::acpi::pm_timer_from_rsdp(tables.rsdp.data(), tables.rsdp.size(), UINT64_MAX);
}

TEST(AcpiPmTimer, FromTheLegacyFieldWith24Bits)
{
    auto facp = fadt(116, 0x604, 0, 0);
    set_fadt_field(facp, 76, 0x608, 4); // QEMU's i440fx: PM_TMR_BLK
    set_fadt_field(facp, 91, 4, 1);
    auto timer = pm_timer_of(facp);
    ASSERT_FALSE(timer.is_error()) << text(timer.error());
    EXPECT_EQ(timer.value().port, 0x608);
    EXPECT_FALSE(timer.value().wide);
}

TEST(AcpiPmTimer, FromTheExtendedFieldWith32Bits)
{
    auto facp = fadt(244, 0, 0, 0, 0, 0x1804);
    set_fadt_field(facp, 91, 4, 1);
    set_fadt_field(facp, 112, 1 << 8, 4); // TMR_VAL_EXT
    set_fadt_field(facp, 208, 1, 1);      // X_PM_TMR_BLK in system I/O space
    set_fadt_field(facp, 212, 0x1808, 8);
    auto timer = pm_timer_of(facp);
    ASSERT_FALSE(timer.is_error()) << text(timer.error());
    EXPECT_EQ(timer.value().port, 0x1808);
    EXPECT_TRUE(timer.value().wide);
}

TEST(AcpiPmTimer, AbsenceIsSaid)
{
    auto unlisted = fadt(116, 0x604, 0, 0);
    set_fadt_field(unlisted, 76, 0x608, 4); // a port, but PM_TMR_LEN 0: no timer
    auto timer = pm_timer_of(unlisted);
    ASSERT_TRUE(timer.is_error());
    EXPECT_NE(text(timer.error()).find("no PM timer"), std::string::npos);

    auto reduced = fadt(244, 0, 0, 0, 0, 0x1804);
    set_fadt_field(reduced, 76, 0x608, 4);
    set_fadt_field(reduced, 91, 4, 1);
    set_fadt_field(reduced, 112, 1 << 20, 4); // HW_REDUCED_ACPI
    auto reduced_timer = pm_timer_of(reduced);
    ASSERT_TRUE(reduced_timer.is_error());
    EXPECT_NE(text(reduced_timer.error()).find("hardware-reduced"), std::string::npos);

    auto memory_mapped = fadt(244, 0, 0, 0, 0, 0x1804);
    set_fadt_field(memory_mapped, 91, 4, 1);
    set_fadt_field(memory_mapped, 208, 0, 1); // X_PM_TMR_BLK in memory space
    set_fadt_field(memory_mapped, 212, 0xFED00000, 8);
    auto memory_timer = pm_timer_of(memory_mapped);
    ASSERT_TRUE(memory_timer.is_error());
    EXPECT_NE(text(memory_timer.error()).find("not in I/O space"), std::string::npos);
}

TEST(AcpiSoftOff, S5FromDsdtWithBytePrefixedValues)
{
    // Some AML before the definition, including a reference to _S5_ that is not one.
    std::vector<u8> aml = { 0x10, 0x05, '\\', '_', 'S', 'B', '_', 0x70, '_', 'S', '5', '_', 0x60 };
    auto definition = s5_definition({ 0x0A, 0x05 }, { 0x0A, 0x07 });
    aml.insert(aml.end(), definition.begin(), definition.end());
    auto dsdt = table("DSDT", aml);
    auto facp = fadt(244, 0, 0, 0, uptr(dsdt.data()), 0x1804);
    AcpiTables tables({ &facp });
    auto off = tables.soft_off();
    ASSERT_FALSE(off.is_error()) << text(off.error());
    EXPECT_EQ(off.value().pm1a_control, 0x1804); // the extended block: the 32-bit one is zero
    EXPECT_EQ(off.value().pm1b_control, 0);
    EXPECT_EQ(off.value().sleep_type_a, 5);
    EXPECT_EQ(off.value().sleep_type_b, 7);
    EXPECT_EQ(off.value().smi_command, 0xB2);
    EXPECT_EQ(off.value().acpi_enable, 0xF1);
}

TEST(AcpiSoftOff, Acpi1FadtWith32BitDsdtAndZeroOneOps)
{
    // QEMU's i440fx layout: an ACPI 1.0 FADT, PM1a at 0x604, \_S5 as Zero/One ops.
    auto aml = s5_definition({ 0x00 }, { 0x01 }, true);
    auto dsdt = table("DSDT", aml);
    auto* low = static_cast<u8*>(mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0));
    ASSERT_NE(low, MAP_FAILED);
    std::memcpy(low, dsdt.data(), dsdt.size());
    auto facp = fadt(116, 0x604, 0x608, u32(uptr(low)));
    AcpiTables tables({ &facp });
    auto off = tables.soft_off();
    ASSERT_FALSE(off.is_error()) << text(off.error());
    EXPECT_EQ(off.value().pm1a_control, 0x604);
    EXPECT_EQ(off.value().pm1b_control, 0x608);
    EXPECT_EQ(off.value().sleep_type_a, 0);
    EXPECT_EQ(off.value().sleep_type_b, 1);
    munmap(low, 4096);
}

TEST(AcpiSoftOff, S5FromAnSsdtWhenTheDsdtHasNone)
{
    auto dsdt = table("DSDT", { 0x10, 0x05, '\\', '_', 'S', 'B', '_' });
    auto ssdt = table("SSDT", s5_definition({ 0x0B, 0x03, 0x00 }, { 0x0C, 0x03, 0, 0, 0 }));
    auto facp = fadt(244, 0xB004, 0, 0, uptr(dsdt.data()));
    AcpiTables tables({ &facp, &ssdt });
    auto off = tables.soft_off();
    ASSERT_FALSE(off.is_error()) << text(off.error());
    EXPECT_EQ(off.value().pm1a_control, 0xB004);
    EXPECT_EQ(off.value().sleep_type_a, 3);
    EXPECT_EQ(off.value().sleep_type_b, 3);
}

TEST(AcpiSoftOff, MissingPiecesAreNamed)
{
    auto dsdt = table("DSDT", s5_definition({ 0x0A, 0x05 }, { 0x0A, 0x05 }));
    auto no_pm1 = fadt(244, 0, 0, 0, uptr(dsdt.data()));
    no_pm1[36 + 172 - 36] = 0; // the extended block is in memory space, not I/O: unusable
    fix_checksum(no_pm1.data(), no_pm1.size(), 9);
    AcpiTables without_pm1({ &no_pm1 });
    auto off = without_pm1.soft_off();
    ASSERT_TRUE(off.is_error());
    EXPECT_NE(text(off.error()).find("PM1a control block"), std::string::npos) << text(off.error());

    auto empty_dsdt = table("DSDT", { 0x10, 0x05, '\\', '_', 'S', 'B', '_' });
    auto facp = fadt(244, 0x604, 0, 0, uptr(empty_dsdt.data()));
    AcpiTables without_s5({ &facp });
    auto no_s5 = without_s5.soft_off();
    ASSERT_TRUE(no_s5.is_error());
    EXPECT_NE(text(no_s5.error()).find("no \\_S5"), std::string::npos) << text(no_s5.error());

    auto madt_only = table("APIC", { 0, 0, 0xE0, 0xFE, 1, 0, 0, 0 });
    AcpiTables without_fadt({ &madt_only });
    auto no_fadt = without_fadt.soft_off();
    ASSERT_TRUE(no_fadt.is_error());
    EXPECT_NE(text(no_fadt.error()).find("no FADT"), std::string::npos) << text(no_fadt.error());
}

TEST(AcpiSoftOff, MalformedS5PackagesAreRefused)
{
    auto check = [](std::vector<u8> const& aml, const char* expected) {
        auto types = rt::acpi::find_s5_sleep_types(aml.data(), aml.size());
        ASSERT_TRUE(types.is_error()) << expected;
        EXPECT_NE(text(types.error()).find(expected), std::string::npos) << text(types.error());
    };
    check(s5_definition({ 0x0A, 0x09 }, { 0x0A, 0x05 }), "does not fit SLP_TYP");
    check({ 0x08, '_', 'S', '5', '_', 0x14, 0x03, 0x00 }, "is not a package"); // a method
    check({ 0x08, '_', 'S', '5', '_', 0x12, 0x04, 0x01, 0x0A, 0x05 }, "needs 2");
    check({ 0x08, '_', 'S', '5', '_', 0x12, 0x07, 0x02, 0x0A, 0x05, 0x0A }, "two integers"); // cut off
    check({ 0x08, '_', 'S', '5', '_', 0x12, 0x07, 0x02, 0x0D, 'x', 0x00 }, "two integers"); // a string
    check({ 0x70, '_', 'S', '5', '_', 0x60 }, "no \\_S5"); // a reference only
    // A four-byte PkgLength (lead byte 0xC0 | low nibble, then three bytes) is skipped whole.
    std::vector<u8> long_length = { 0x08, '_', 'S', '5', '_', 0x12, 0xC0, 0x00, 0x00, 0x00, 0x02, 0x0A, 0x02, 0x01 };
    auto types = rt::acpi::find_s5_sleep_types(long_length.data(), long_length.size());
    ASSERT_FALSE(types.is_error()) << text(types.error());
    EXPECT_EQ(types.value().a, 2);
    EXPECT_EQ(types.value().b, 1);
}

}
