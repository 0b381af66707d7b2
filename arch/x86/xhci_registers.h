#pragma once
// What xhci.cpp (the controller: start, rings, events, commands, transfers) and
// xhci_devices.cpp (what hangs on its ports: devices, hubs, keyboards) share: the
// register layout and TRB fields of the xHCI specification (rev. 1.2), and bounded waits.
#include <arch/x86/tsc_calibration.h>
#include <rt/cycles.h>

namespace x86::xhci {

// TRB types (control bits 15:10) and fields.
constexpr u32 normal_trb = 1, setup_trb = 2, data_trb = 3, status_trb = 4, link_trb = 6;
constexpr u32 enable_slot_command = 9, disable_slot_command = 10, address_device_command = 11, configure_endpoint_command = 12,
              evaluate_context_command = 13;
constexpr u32 transfer_event = 32, command_completion_event = 33, port_status_change_event = 34;
constexpr u32 cycle_bit = 1u << 0, toggle_cycle = 1u << 1, short_packet_interrupt = 1u << 2, interrupt_on_completion = 1u << 5,
              immediate_data = 1u << 6, direction_in = 1u << 16;
constexpr u32 type_field(u32 type) { return type << 10; }
constexpr u32 slot_field(u32 slot) { return slot << 24; }
constexpr u32 success = 1, short_packet = 13;

// Operational registers (from the capability length on) and a port's status and control.
constexpr u32 usb_command = 0x00, usb_status = 0x04, command_ring_control = 0x18, device_contexts_pointer = 0x30,
              configure = 0x38, port_registers = 0x400;
constexpr u32 run = 1u << 0, host_reset = 1u << 1;
constexpr u32 halted = 1u << 0, not_ready = 1u << 11;
constexpr u32 port_connected = 1u << 0, port_enabled = 1u << 1, port_reset = 1u << 4, port_power = 1u << 9,
              reset_changed = 1u << 21, port_change_bits = 0x7Fu << 17;
// Writing these back as read keeps them; every other bit of PORTSC either is read-only or
// acts when a 1 is written (enabled and the change bits clear, reset starts one).
constexpr u32 port_kept_bits = port_power | (3u << 14) | (7u << 25);

// Endpoint types in an endpoint context.
constexpr u32 control_endpoint = 4, interrupt_in_endpoint = 7;

inline u32 volatile& reg32(u8 volatile* base, u32 offset) { return *reinterpret_cast<u32 volatile*>(base + offset); }

// The xHCI takes 64-bit addresses; the kernel's memory lies below 4 GiB.
inline void write64(u8 volatile* base, u32 offset, u64 value)
{
    reg32(base, offset) = u32(value);
    reg32(base, offset + 4) = u32(value >> 32);
}

template<typename Condition>
bool wait_until(u32 milliseconds, Condition&& done)
{
    u64 deadline = rt::read_cycles() + rt::CycleClock::frequency() / 1000 * milliseconds;
    while (!done()) {
        if (rt::read_cycles() > deadline)
            return done();
        asm volatile("pause");
    }
    return true;
}

inline void sleep_ms(u32 milliseconds) { wait_microseconds(milliseconds * 1000); }

// What the controller's TRB writes and the kernel's reads of them must not be reordered
// across (x86 keeps stores in order; this keeps the compiler from moving them).
inline void compiler_fence() { asm volatile("" ::: "memory"); }

}
