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
    ++topology.listed;
    for (size_t i = 0; i < topology.count; ++i)
        if (topology.processors[i].apic_id == apic_id) {
            topology.processors[i].enabled |= enabled;
            return;
        }
    if (topology.count < Topology::max_processors) {
        topology.processors[topology.count++] = { apic_id, enabled };
        return;
    }
    // Full (firmware often lists placeholders for every socket's possible cores): an
    // enabled processor takes the last disabled one's place.
    for (size_t i = topology.count; enabled && i-- > 0;)
        if (!topology.processors[i].enabled) {
            topology.processors[i] = { apic_id, enabled };
            return;
        }
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
            // Ids from 255 on are reachable only in x2APIC mode: the SMP start-up decides.
            add_processor(topology, read32(entry + 4), (read32(entry + 8) & 1) != 0);
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

namespace {

bool signature_is(const u8* table, StringView signature) { return StringView(reinterpret_cast<const char*>(table), 4) == signature; }

// Calls `visit(table)` for each checked table the RSDP leads to (the XSDT's when it is
// there and within reach, then the RSDT's, as firmware may list a table in only one) until
// it returns true; returns whether one did.
template<typename Visit>
ErrorOr<bool> for_each_table(const u8* rsdp, size_t length, u64 address_limit, Visit visit)
{
    if (!rsdp || length < 20 || !(StringView(reinterpret_cast<const char*>(rsdp), 8) == "RSD PTR "))
        return Error::format("acpi: no valid RSDP");
    if (!checksum_ok(rsdp, 20))
        return Error::format("acpi: the RSDP fails its checksum");
    u8 revision = rsdp[15];
    bool walked_xsdt = false;
    // ACPI 2+: prefer the XSDT (64-bit entries) when it is within reach.
    if (revision >= 2 && length >= 36 && checksum_ok(rsdp, 36)) {
        auto xsdt = table_at(read64(rsdp + 24), address_limit, "XSDT");
        if (!xsdt.is_error()) {
            walked_xsdt = true;
            const u8* table = xsdt.value();
            u32 table_length = read32(table + 4);
            for (u32 at = sdt_header_bytes; at + 8 <= table_length; at += 8) {
                auto entry = table_at(read64(table + at), address_limit, "XSDT entry");
                if (!entry.is_error() && visit(entry.value()))
                    return true;
            }
        }
    }
    auto rsdt_or_error = table_at(read32(rsdp + 16), address_limit, "RSDT");
    if (rsdt_or_error.is_error()) {
        if (walked_xsdt)
            return false;
        return rsdt_or_error.release_error();
    }
    const u8* rsdt = rsdt_or_error.value();
    u32 table_length = read32(rsdt + 4);
    for (u32 at = sdt_header_bytes; at + 4 <= table_length; at += 4) {
        auto entry = table_at(read32(rsdt + at), address_limit, "RSDT entry");
        if (!entry.is_error() && visit(entry.value()))
            return true;
    }
    return false;
}

// AML integer constants (ACPI 6.5, section 20.2.3): the one-byte ones and the prefixed.
constexpr u8 zero_op = 0x00, one_op = 0x01, ones_op = 0xFF, byte_prefix = 0x0A, word_prefix = 0x0B, dword_prefix = 0x0C, qword_prefix = 0x0E;
constexpr u8 name_op = 0x08, package_op = 0x12, root_prefix = 0x5C;

// Reads one AML integer at aml[at]; advances `at`. Returns false if it is not an integer.
bool read_aml_integer(const u8* aml, size_t length, size_t& at, u64& value)
{
    if (at >= length)
        return false;
    u8 op = aml[at++];
    size_t bytes = 0;
    switch (op) {
    case zero_op: value = 0; return true;
    case one_op: value = 1; return true;
    case ones_op: value = ~u64(0); return true;
    case byte_prefix: bytes = 1; break;
    case word_prefix: bytes = 2; break;
    case dword_prefix: bytes = 4; break;
    case qword_prefix: bytes = 8; break;
    default: return false;
    }
    if (at + bytes > length)
        return false;
    value = 0;
    for (size_t i = 0; i < bytes; ++i)
        value |= u64(aml[at + i]) << (8 * i);
    at += bytes;
    return true;
}

// The sleep types of the package that follows "_S5_" at aml[name_at], if it is one.
ErrorOr<SleepTypes> s5_package_at(const u8* aml, size_t length, size_t name_at)
{
    size_t at = name_at + 4;
    if (at >= length || aml[at] != package_op)
        return Error::format("acpi: \\_S5 at AML offset {} is not a package", name_at);
    ++at;
    if (at >= length)
        return Error::format("acpi: \\_S5 package at AML offset {} is cut off", name_at);
    // PkgLength: bits 7-6 of the lead byte count the bytes that follow it.
    at += 1 + (aml[at] >> 6);
    if (at >= length)
        return Error::format("acpi: \\_S5 package at AML offset {} is cut off", name_at);
    u8 elements = aml[at++];
    u64 values[2];
    if (elements < 2)
        return Error::format("acpi: \\_S5 package at AML offset {} has {} element(s), needs 2", name_at, elements);
    for (u64& value : values) {
        if (!read_aml_integer(aml, length, at, value))
            return Error::format("acpi: \\_S5 package at AML offset {} does not start with two integers", name_at);
        if (value > 7)
            return Error::format("acpi: \\_S5 sleep type {:#x} does not fit SLP_TYP's 3 bits", value);
    }
    return SleepTypes { u8(values[0]), u8(values[1]) };
}

// A FADT block (PM1 control, PM timer) as an I/O port: the 32-bit field, or the extended
// address when that is zero (ACPI 2+), if it is in I/O space.
u16 io_port_field(const u8* fadt, u32 fadt_length, u32 legacy_offset, u32 extended_offset)
{
    u32 legacy = read32(fadt + legacy_offset);
    if (legacy)
        return legacy <= 0xFFFF ? u16(legacy) : 0;
    constexpr u8 system_io = 1;
    if (fadt_length >= extended_offset + 12 && fadt[extended_offset] == system_io) {
        u64 address = read64(fadt + extended_offset + 4);
        return address <= 0xFFFF ? u16(address) : 0;
    }
    return 0;
}

}

ErrorOr<SleepTypes> find_s5_sleep_types(const u8* aml, size_t length)
{
    Error last = Error::format("acpi: no \\_S5 object in the AML");
    for (size_t at = 1; at + 4 <= length; ++at) {
        if (!(aml[at] == '_' && aml[at + 1] == 'S' && aml[at + 2] == '5' && aml[at + 3] == '_'))
            continue;
        // A definition, `Name (_S5, ...)` or `Name (\_S5, ...)`, not a reference.
        bool named = aml[at - 1] == name_op || (at >= 2 && aml[at - 1] == root_prefix && aml[at - 2] == name_op);
        if (!named)
            continue;
        auto types = s5_package_at(aml, length, at);
        if (!types.is_error())
            return types;
        last = types.release_error();
    }
    return last;
}

// The first table with this signature that the RSDT/XSDT lists, or null when none does.
ErrorOr<const u8*> find_table(const u8* rsdp, size_t length, u64 address_limit, const char* signature)
{
    const u8* found = nullptr;
    TRY(for_each_table(rsdp, length, address_limit, [&](const u8* table) {
        if (signature_is(table, signature))
            found = table;
        return found != nullptr;
    }));
    return found;
}

// The FADT ("FACP"), at least as long as ACPI 1.0's (116 bytes).
ErrorOr<const u8*> find_fadt(const u8* rsdp, size_t length, u64 address_limit)
{
    const u8* fadt = TRY(find_table(rsdp, length, address_limit, "FACP"));
    if (!fadt)
        return Error::format("acpi: no FADT (FACP table) found");
    u32 fadt_length = read32(fadt + 4);
    if (fadt_length < 116)
        return Error::format("acpi: the FADT is too short ({} bytes)", fadt_length);
    return fadt;
}

ErrorOr<PmTimer> pm_timer_from_rsdp(const u8* rsdp, size_t length, u64 address_limit)
{
    const u8* fadt = TRY(find_fadt(rsdp, length, address_limit));
    // FADT fields (ACPI 6.5, table 5.9): PM_TMR_BLK at 76, PM_TMR_LEN at 91, Flags at 112
    // (TMR_VAL_EXT: bit 8; HW_REDUCED_ACPI: bit 20), X_PM_TMR_BLK at 208.
    u32 fadt_length = read32(fadt + 4);
    u32 flags = read32(fadt + 112);
    constexpr u32 wide_timer = 1 << 8, hardware_reduced = 1 << 20;
    if (flags & hardware_reduced)
        return Error::format("acpi: a hardware-reduced platform has no PM timer");
    if (fadt[91] < 4)
        return Error::format("acpi: the FADT lists no PM timer");
    PmTimer timer { io_port_field(fadt, fadt_length, 76, 208), (flags & wide_timer) != 0 };
    if (!timer.port)
        return Error::format("acpi: the PM timer is not in I/O space");
    return timer;
}

ErrorOr<SoftOff> soft_off_from_rsdp(const u8* rsdp, size_t length, u64 address_limit)
{
    const u8* fadt = TRY(find_fadt(rsdp, length, address_limit));
    // FADT fields (ACPI 6.5, table 5.9): DSDT at 40, SMI_CMD at 48, ACPI_ENABLE at 52,
    // PM1a/PM1b_CNT_BLK at 64/68, X_DSDT at 140, X_PM1a/X_PM1b_CNT_BLK at 172/184.
    u32 fadt_length = read32(fadt + 4);
    SoftOff off;
    off.pm1a_control = io_port_field(fadt, fadt_length, 64, 172);
    off.pm1b_control = io_port_field(fadt, fadt_length, 68, 184);
    if (!off.pm1a_control)
        return Error::format("acpi: the FADT names no PM1a control block in I/O space");
    u32 smi_command = read32(fadt + 48);
    if (smi_command <= 0xFFFF) {
        off.smi_command = u16(smi_command);
        off.acpi_enable = fadt[52];
    }

    u64 dsdt_address = fadt_length >= 148 ? read64(fadt + 140) : 0;
    if (dsdt_address == 0 || dsdt_address >= address_limit)
        dsdt_address = read32(fadt + 40);
    auto dsdt = table_at(dsdt_address, address_limit, "DSDT");
    Error why = Error::format("acpi: no \\_S5 object");
    if (!dsdt.is_error()) {
        auto types = find_s5_sleep_types(dsdt.value() + sdt_header_bytes, read32(dsdt.value() + 4) - sdt_header_bytes);
        if (!types.is_error()) {
            off.sleep_type_a = types.value().a;
            off.sleep_type_b = types.value().b;
            return off;
        }
        why = types.release_error();
    } else {
        why = dsdt.release_error();
    }
    // Some firmware defines \_S5 in a secondary table.
    SleepTypes found {};
    bool have_found = false;
    TRY(for_each_table(rsdp, length, address_limit, [&](const u8* table) {
        if (signature_is(table, "SSDT")) {
            auto types = find_s5_sleep_types(table + sdt_header_bytes, read32(table + 4) - sdt_header_bytes);
            if (!types.is_error()) {
                found = types.value();
                have_found = true;
            }
        }
        return have_found;
    }));
    if (!have_found)
        return why;
    off.sleep_type_a = found.a;
    off.sleep_type_b = found.b;
    return off;
}

ErrorOr<Topology> topology_from_rsdp(const u8* rsdp, size_t length, u64 address_limit)
{
    const u8* madt = TRY(find_table(rsdp, length, address_limit, "APIC"));
    if (!madt)
        return Error::format("acpi: no MADT (APIC table) found");
    return parse_madt(madt, address_limit);
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
