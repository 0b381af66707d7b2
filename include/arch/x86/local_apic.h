#pragma once
#include <rt/types.h>

namespace x86 {

// Each processor's local APIC: one register page at the same physical address on every
// core, each core seeing its own. BareFlow uses it to start the other processors
// (INIT, start-up IPIs), to wake sleeping ones and to stop them with an NMI.
class LocalApic {
public:
    static LocalApic& the();

    // The IPI vector that wakes a sleeping core (its handler only acknowledges it), and
    // the vector of the APIC's spurious interrupts (never acknowledged).
    static constexpr u8 wake_vector = 48;
    static constexpr u8 spurious_vector = 63;

    // Uses the registers at `base` (from the MADT or the MP tables, below 4 GiB) from now
    // on, and registers the wake-up vector's handler.
    void initialize(uptr base);
    bool is_present() const { return m_registers != nullptr; }

    // Turns on the APIC of the processor running this (each core has its own).
    void enable();
    // The APIC id of the processor running this.
    u32 id() const;
    void end_of_interrupt();

    void send_init(u32 apic_id);
    // A start-up IPI: the processor starts in real mode at page `vector` (address >> 12).
    void send_startup(u32 apic_id, u8 vector);
    void send_fixed(u32 apic_id, u8 vector);
    // An NMI to every processor but this one.
    void send_nmi_to_others();

private:
    u32 read(u32 reg) const { return m_registers[reg / 4]; }
    void write(u32 reg, u32 value) { m_registers[reg / 4] = value; }
    void send_ipi(u32 apic_id, u32 command);

    volatile u32* m_registers { nullptr };
};

}
