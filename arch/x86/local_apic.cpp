#include <arch/x86/interrupts.h>
#include <arch/x86/local_apic.h>

namespace x86 {

namespace {

// Registers (offsets from the APIC's base).
enum Register : u32 { Id = 0x20, EndOfInterrupt = 0xB0, SpuriousVector = 0xF0, ErrorStatus = 0x280, CommandLow = 0x300, CommandHigh = 0x310 };
constexpr u32 software_enable = 1 << 8;
// Interrupt command fields.
constexpr u32 delivery_fixed = 0;
constexpr u32 delivery_nmi = 4 << 8;
constexpr u32 delivery_init = 5 << 8;
constexpr u32 delivery_startup = 6 << 8;
constexpr u32 delivery_pending = 1 << 12;
constexpr u32 level_assert = 1 << 14;
constexpr u32 all_excluding_self = 3 << 18;

LocalApic the_apic;

// The wake-up itself is the whole message.
void acknowledge_wake_up(InterruptFrame&) { LocalApic::the().end_of_interrupt(); }

}

LocalApic& LocalApic::the() { return the_apic; }

void LocalApic::initialize(uptr base)
{
    m_registers = reinterpret_cast<volatile u32*>(base);
    set_vector_handler(wake_vector, acknowledge_wake_up);
}

void LocalApic::enable()
{
    write(SpuriousVector, software_enable | spurious_vector);
}

u32 LocalApic::id() const
{
    return read(Id) >> 24;
}

void LocalApic::end_of_interrupt()
{
    if (m_registers)
        write(EndOfInterrupt, 0);
}

void LocalApic::send_ipi(u32 apic_id, u32 command)
{
    write(ErrorStatus, 0);
    write(CommandHigh, apic_id << 24);
    write(CommandLow, command);
    for (int spins = 0; spins < 1'000'000 && (read(CommandLow) & delivery_pending); ++spins)
        asm volatile("pause");
}

void LocalApic::send_init(u32 apic_id) { send_ipi(apic_id, delivery_init | level_assert); }
void LocalApic::send_startup(u32 apic_id, u8 vector) { send_ipi(apic_id, delivery_startup | vector); }
void LocalApic::send_fixed(u32 apic_id, u8 vector) { send_ipi(apic_id, delivery_fixed | vector); }

void LocalApic::send_nmi_to_others()
{
    // Without waiting for delivery: the caller is about to report a fault and stop.
    write(CommandHigh, 0);
    write(CommandLow, delivery_nmi | level_assert | all_excluding_self);
}

}
