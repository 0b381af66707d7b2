#pragma once
#include <rt/types.h>

namespace x86 {

// Each processor's local APIC. BareFlow uses it to start the other processors (INIT,
// start-up IPIs), to wake sleeping ones and to stop them with an NMI. Two ways to reach
// it: xAPIC mode, one register page at the same physical address on every core (each
// core seeing its own), 8-bit APIC ids; and x2APIC mode, the same registers as MSRs,
// 32-bit ids. Firmware that hands over in x2APIC mode (machines with ids from 255 on, and
// many recent PCs) has switched the page off: every core must then be driven by MSRs.
class LocalApic {
public:
    static LocalApic& the();

    // The IPI vector that wakes a sleeping core (its handler only acknowledges it), and
    // the vector of the APIC's spurious interrupts (never acknowledged).
    static constexpr u8 wake_vector = 48;
    static constexpr u8 spurious_vector = 63;

    enum class Mode { XApic, X2Apic };
    // How the mode was chosen, for the report.
    enum class Reason { FirmwareLeftIt, Requested, RequestedButMissing, Default };

    // Uses the registers at `base` (from the MADT or the MP tables, below 4 GiB) from now
    // on, in x2APIC mode if the firmware left the boot processor in it or `want_x2apic`
    // and the CPU has it, and registers the wake-up vector's handler.
    void initialize(uptr base, bool want_x2apic);
    bool is_present() const { return m_present; }
    Mode mode() const { return m_mode; }
    // The mode the APIC of the processor running this is in (IA32_APIC_BASE), to check
    // that every core follows mode().
    Mode mode_of_this_processor() const;
    Reason reason() const { return m_reason; }
    // The largest APIC id this mode can send an IPI to.
    u32 highest_reachable_id() const { return m_mode == Mode::X2Apic ? 0xFFFFFFFEu : 0xFEu; }

    // Turns on the APIC of the processor running this (each core has its own), in the
    // chosen mode.
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
    u32 read(u32 reg) const;
    void write(u32 reg, u32 value);
    // The interrupt command register: the destination and the command in one step.
    void write_command(u32 apic_id, u32 command);
    void send_ipi(u32 apic_id, u32 command);

    volatile u32* m_registers { nullptr };
    bool m_present { false };
    Mode m_mode { Mode::XApic };
    Reason m_reason { Reason::Default };
};

}
