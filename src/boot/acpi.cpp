#include <rt/acpi.h>

namespace rt::acpi {

namespace {

constexpr size_t sdt_header_bytes = 36;
constexpr u32 max_table_bytes = 1 << 20;

u32 read32(const u8* p) { return u32(p[0]) | u32(p[1]) << 8 | u32(p[2]) << 16 | u32(p[3]) << 24; }
u64 read64(const u8* p) { return u64(read32(p)) | u64(read32(p + 4)) << 32; }
u16 read16(const u8* p) { return u16(p[0] | p[1] << 8); }

const u8* pointer(u64 address) { return reinterpret_cast<const u8*>(uptr(address)); }

// A system description table at `address`, checked, or an error naming it.
ErrorOr<const u8*> table_at(u64 address, u64 address_limit, StringView expected)
{
    if (address == 0 || address >= address_limit || address + sdt_header_bytes > address_limit)
        return Error::format("acpi: {} table address {:#x} is out of reach", expected, address);
    const u8* table = pointer(address);
    u32 length = read32(table + 4);
    if (length < sdt_header_bytes || length > max_table_bytes || address + length > address_limit)
        return Error::format("acpi: table at {:#x} has implausible length {}", address, length);
    if (!checksum_ok(table, length))
        return Error::format("acpi: table {} at {:#x} fails its checksum", StringView(reinterpret_cast<const char*>(table), 4), address);
    return table;
}

void add_processor(Topology& topology, u32 apic_id, bool enabled)
{
    if (topology.count < Topology::max_processors)
        topology.processors[topology.count++] = { apic_id, enabled };
}

ErrorOr<Topology> parse_madt(const u8* madt, u64 address_limit)
{
    (void)address_limit;
    Topology topology;
    topology.source = "ACPI MADT";
    u32 length = read32(madt + 4);
    if (length < sdt_header_bytes + 8)
        return Error::format("acpi: MADT is too short ({} bytes)", length);
    topology.local_apic_address = read32(madt + sdt_header_bytes);
    for (u32 offset = sdt_header_bytes + 8; offset + 2 <= length;) {
        u8 type = madt[offset];
        u8 entry_length = madt[offset + 1];
        if (entry_length < 2 || offset + entry_length > length)
            return Error::format("acpi: MADT entry at offset {} has length {}", offset, entry_length);
        const u8* entry = madt + offset;
        if (type == 0 && entry_length >= 8) { // processor local APIC
            u32 flags = read32(entry + 4);
            add_processor(topology, entry[3], (flags & 1) != 0);
        } else if (type == 5 && entry_length >= 12) { // local APIC address override
            topology.local_apic_address = read64(entry + 4);
        } else if (type == 9 && entry_length >= 16) { // processor local x2APIC
            u32 id = read32(entry + 4);
            u32 flags = read32(entry + 8);
            if (id < 255) // reachable with xAPIC inter-processor interrupts
                add_processor(topology, id, (flags & 1) != 0);
        }
        offset += entry_length;
    }
    if (topology.count == 0)
        return Error::format("acpi: the MADT lists no processors");
    return topology;
}

}

bool checksum_ok(const u8* data, size_t length)
{
    u8 sum = 0;
    for (size_t i = 0; i < length; ++i)
        sum = u8(sum + data[i]);
    return sum == 0;
}

const u8* find_structure(const u8* start, size_t length, StringView signature, size_t checked_length)
{
    for (size_t offset = 0; offset + checked_length <= length; offset += 16) {
        const u8* candidate = start + offset;
        if (StringView(reinterpret_cast<const char*>(candidate), signature.length()) == signature && checksum_ok(candidate, checked_length))
            return candidate;
    }
    return nullptr;
}

ErrorOr<Topology> topology_from_rsdp(const u8* rsdp, size_t length, u64 address_limit)
{
    if (!rsdp || length < 20 || !(StringView(reinterpret_cast<const char*>(rsdp), 8) == "RSD PTR "))
        return Error::format("acpi: no valid RSDP");
    if (!checksum_ok(rsdp, 20))
        return Error::format("acpi: the RSDP fails its checksum");
    u8 revision = rsdp[15];
    // ACPI 2+: prefer the XSDT (64-bit entries) when it is within reach.
    if (revision >= 2 && length >= 36 && checksum_ok(rsdp, 36)) {
        u64 xsdt_address = read64(rsdp + 24);
        auto xsdt = table_at(xsdt_address, address_limit, "XSDT");
        if (!xsdt.is_error()) {
            const u8* table = xsdt.value();
            u32 table_length = read32(table + 4);
            for (u32 at = sdt_header_bytes; at + 8 <= table_length; at += 8) {
                auto entry = table_at(read64(table + at), address_limit, "XSDT entry");
                if (!entry.is_error() && StringView(reinterpret_cast<const char*>(entry.value()), 4) == "APIC")
                    return parse_madt(entry.value(), address_limit);
            }
        }
    }
    auto rsdt = TRY(table_at(read32(rsdp + 16), address_limit, "RSDT"));
    u32 table_length = read32(rsdt + 4);
    for (u32 at = sdt_header_bytes; at + 4 <= table_length; at += 4) {
        auto entry = table_at(read32(rsdt + at), address_limit, "RSDT entry");
        if (!entry.is_error() && StringView(reinterpret_cast<const char*>(entry.value()), 4) == "APIC")
            return parse_madt(entry.value(), address_limit);
    }
    return Error::format("acpi: no MADT (APIC table) found");
}

ErrorOr<Topology> topology_from_mp_tables(const u8* floating_pointer, u64 address_limit)
{
    if (!floating_pointer || !checksum_ok(floating_pointer, 16))
        return Error::format("mp: no valid floating pointer");
    u64 address = read32(floating_pointer + 4);
    if (address == 0)
        return Error::format("mp: default configurations (no table) are not supported");
    if (address + 44 > address_limit)
        return Error::format("mp: configuration table at {:#x} is out of reach", address);
    const u8* table = pointer(address);
    if (!(StringView(reinterpret_cast<const char*>(table), 4) == "PCMP"))
        return Error::format("mp: configuration table has no PCMP signature");
    u16 length = read16(table + 4);
    if (length < 44 || address + length > address_limit || !checksum_ok(table, length))
        return Error::format("mp: configuration table is malformed");
    Topology topology;
    topology.source = "MP tables";
    topology.local_apic_address = read32(table + 36);
    u16 entries = read16(table + 34);
    u32 offset = 44;
    for (u16 i = 0; i < entries && offset < length; ++i) {
        u8 type = table[offset];
        if (type == 0) { // processor
            if (offset + 20 > length)
                break;
            add_processor(topology, table[offset + 1], (table[offset + 3] & 1) != 0);
            offset += 20;
        } else {
            offset += 8; // buses, I/O APICs, interrupt assignments
        }
    }
    if (topology.count == 0)
        return Error::format("mp: the configuration table lists no processors");
    return topology;
}

}
