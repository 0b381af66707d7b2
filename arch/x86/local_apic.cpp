#include <arch/x86/cpu.h>
#include <arch/x86/interrupts.h>
#include <arch/x86/local_apic.h>

namespace x86 {

namespace {

// Registers (offsets in xAPIC's page; in x2APIC mode MSR 0x800 + offset / 16).
enum Register : u32 { Id = 0x20, EndOfInterrupt = 0xB0, SpuriousVector = 0xF0, ErrorStatus = 0x280, CommandLow = 0x300, CommandHigh = 0x310 };
constexpr u32 x2apic_msrs = 0x800;
constexpr u32 software_enable = 1 << 8;
// Interrupt command fields.
constexpr u32 delivery_fixed = 0;
constexpr u32 delivery_nmi = 4 << 8;
constexpr u32 delivery_init = 5 << 8;
constexpr u32 delivery_startup = 6 << 8;
constexpr u32 delivery_pending = 1 << 12; // xAPIC only: x2APIC sends at once
constexpr u32 level_assert = 1 << 14;
constexpr u32 all_excluding_self = 3 << 18;
// IA32_APIC_BASE: where the page is, and the mode.
constexpr u32 apic_base_msr = 0x1B;
constexpr u64 x2apic_enable = 1 << 10, global_enable = 1 << 11;
// CPUID leaf 1.
constexpr u32 has_msrs = 1 << 5;     // EDX
constexpr u32 has_x2apic = 1 << 21;  // ECX

LocalApic the_apic;

// The wake-up itself is the whole message.
void acknowledge_wake_up(InterruptFrame&) { LocalApic::the().end_of_interrupt(); }

}

LocalApic& LocalApic::the() { return the_apic; }

void LocalApic::initialize(uptr base, bool want_x2apic)
{
    m_registers = reinterpret_cast<volatile u32*>(base);
    m_present = true;
    bool firmware_x2apic = mode_of_this_processor() == Mode::X2Apic;
    bool can_x2apic = (cpuid(1).ecx & has_x2apic) != 0;
    if (firmware_x2apic) {
        m_mode = Mode::X2Apic;
        m_reason = Reason::FirmwareLeftIt;
    } else if (want_x2apic) {
        m_mode = can_x2apic ? Mode::X2Apic : Mode::XApic;
        m_reason = can_x2apic ? Reason::Requested : Reason::RequestedButMissing;
    }
    set_vector_handler(wake_vector, acknowledge_wake_up);
}

void LocalApic::enable()
{
    if (m_mode == Mode::X2Apic) {
        // Each core switches its own APIC; a disabled one must be enabled in xAPIC mode
        // first (the architecture allows no direct step from disabled to x2APIC).
        u64 base = read_msr(apic_base_msr);
        if (!(base & global_enable)) {
            base |= global_enable;
            write_msr(apic_base_msr, base);
        }
        if (!(base & x2apic_enable))
            write_msr(apic_base_msr, base | x2apic_enable);
    }
    write(SpuriousVector, software_enable | spurious_vector);
}

LocalApic::Mode LocalApic::mode_of_this_processor() const
{
    bool x2apic = (cpuid(1).edx & has_msrs) && (read_msr(apic_base_msr) & x2apic_enable);
    return x2apic ? Mode::X2Apic : Mode::XApic;
}

u32 LocalApic::id() const
{
    return m_mode == Mode::X2Apic ? read(Id) : read(Id) >> 24;
}

void LocalApic::end_of_interrupt()
{
    if (m_present)
        write(EndOfInterrupt, 0);
}

u32 LocalApic::read(u32 reg) const
{
    if (m_mode == Mode::X2Apic)
        return u32(read_msr(x2apic_msrs + reg / 16));
    return m_registers[reg / 4];
}

void LocalApic::write(u32 reg, u32 value)
{
    if (m_mode == Mode::X2Apic)
        write_msr(x2apic_msrs + reg / 16, value);
    else
        m_registers[reg / 4] = value;
}

void LocalApic::write_command(u32 apic_id, u32 command)
{
    if (m_mode == Mode::X2Apic) {
        // One 64-bit register. Writing it is not serialising: the fences make the stores
        // before it (a job the woken core is to read) visible first, as Intel prescribes.
        asm volatile("mfence; lfence" ::: "memory");
        write_msr(x2apic_msrs + CommandLow / 16, u64(apic_id) << 32 | command);
        return;
    }
    write(CommandHigh, apic_id << 24);
    write(CommandLow, command);
}

void LocalApic::send_ipi(u32 apic_id, u32 command)
{
    write(ErrorStatus, 0);
    write_command(apic_id, command);
    if (m_mode == Mode::X2Apic)
        return;
    for (int spins = 0; spins < 1'000'000 && (read(CommandLow) & delivery_pending); ++spins)
        asm volatile("pause");
}

void LocalApic::send_init(u32 apic_id) { send_ipi(apic_id, delivery_init | level_assert); }
void LocalApic::send_startup(u32 apic_id, u8 vector) { send_ipi(apic_id, delivery_startup | vector); }
void LocalApic::send_fixed(u32 apic_id, u8 vector) { send_ipi(apic_id, delivery_fixed | vector); }

void LocalApic::send_nmi_to_others()
{
    // Without waiting for delivery: the caller is about to report a fault and stop.
    write_command(0, delivery_nmi | level_assert | all_excluding_self);
}

}
