#pragma once
// Finding the processors: ACPI's MADT (reached from the RSDP through the RSDT or XSDT),
// or the older MP tables when there is no ACPI. Tables live at physical addresses, which
// the kernel reads directly (no paging); everything is checked (signatures, checksums,
// lengths) before it is used, and addresses beyond `address_limit` are refused.
#include <rt/error.h>
#include <rt/span.h>

namespace rt::acpi {

struct Processor {
    u32 apic_id;
    bool enabled;
};

struct Topology {
    static constexpr size_t max_processors = 64;
    u64 local_apic_address { 0xFEE00000 };
    // Each APIC id once (firmware may list a processor twice, as a local APIC and as a
    // local x2APIC: starting a running core again would reset it), in table order, except
    // that an enabled one that does not fit takes the place of a disabled one.
    Processor processors[max_processors] {};
    size_t count { 0 };
    size_t listed { 0 }; // the table's processor entries, repeats and those left out included
    const char* source { "none" };
};

// What switching the machine off (sleep state S5) takes, from the FADT and the \_S5 object
// of the DSDT (or an SSDT): write SLP_TYPx << 10 | SLP_EN to each PM1 control block.
struct SoftOff {
    u16 pm1a_control { 0 };
    u16 pm1b_control { 0 }; // 0: the machine has no second block
    u8 sleep_type_a { 0 };
    u8 sleep_type_b { 0 };
    // Where the firmware is asked to hand the hardware to ACPI (when SCI_EN is still clear).
    u16 smi_command { 0 };
    u8 acpi_enable { 0 };
};

// The power-management timer: a free-running counter at 3.579545 MHz in I/O space, 24 or
// 32 bits wide, that most PCs have (a reference to measure the TSC against).
struct PmTimer {
    static constexpr u32 frequency_hz = 3'579'545;
    u16 port { 0 };
    bool wide { false }; // 32 bits, else 24
};

struct SleepTypes {
    u8 a;
    u8 b;
};

// The FADT ("FACP") and the \_S5 package, through the RSDT or XSDT as for the MADT.
ErrorOr<SoftOff> soft_off_from_rsdp(const u8* rsdp, size_t length, u64 address_limit);
// The FADT's PM timer, or why there is none (not listed, not in I/O space, or a
// hardware-reduced platform, which has none).
ErrorOr<PmTimer> pm_timer_from_rsdp(const u8* rsdp, size_t length, u64 address_limit);
// The first two integers of the \_S5_ package in a block of AML (a DSDT's or SSDT's body):
// `Name (_S5, Package () { a, b, ... })`, with the integers as ZeroOp, OneOp, or a
// Byte/Word/DWord prefix. Sleep types are 3 bits; anything else is an error.
ErrorOr<SleepTypes> find_s5_sleep_types(const u8* aml, size_t length);

// `rsdp` points at a copy of the RSDP (Multiboot2 hands one over) or at the real one.
ErrorOr<Topology> topology_from_rsdp(const u8* rsdp, size_t length, u64 address_limit);
// `floating_pointer` points at an MP floating pointer structure ("_MP_").
ErrorOr<Topology> topology_from_mp_tables(const u8* floating_pointer, u64 address_limit);
// The first 16-byte aligned occurrence of `signature` (with a valid checksum over
// `checked_length` bytes) in [start, start + length), or null.
const u8* find_structure(const u8* start, size_t length, StringView signature, size_t checked_length);

bool checksum_ok(const u8* data, size_t length);

}
