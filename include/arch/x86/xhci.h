#pragma once
// A USB 3 host controller (xHCI 1.x) driven just far enough to read keyboards: taken over
// from the firmware, reset, its root ports enumerated and the USB 2 hubs on them (five
// tiers deep, as USB allows), and every keyboard that speaks the HID boot protocol set up
// to report keys on its interrupt endpoint. Polled: the kernel never enables the
// controller's interrupts.
#include <arch/x86/pci.h>
#include <rt/error.h>
#include <rt/format.h>
#include <rt/hid_keyboard.h>
#include <rt/usb_descriptors.h>

namespace x86::xhci {

// One TRB (transfer request block), the unit of every ring.
struct Trb {
    u64 parameter;
    u32 status;
    u32 control;
};
static_assert(sizeof(Trb) == 16);

// A ring the kernel produces into (commands, or one endpoint's transfers): its last TRB
// links back to the first, and the cycle bit tells the controller which TRBs are new.
class ProducerRing {
public:
    rt::ErrorOr<void> allocate();
    u32 address() const { return u32(uptr(m_trbs)); }
    // Writes the TRB (its cycle bit set here) and returns where it went, which the
    // controller's event for it names.
    u32 push(Trb);

private:
    static constexpr u32 size = 64; // TRBs, the link included
    Trb volatile* m_trbs { nullptr };
    u32 m_next { 0 };
    u32 m_cycle { 1 };
};

// A keyboard found (on a root port or behind hubs), reading reports into `buffer`.
struct Keyboard {
    u8 slot, endpoint; // the device slot and the endpoint's context index
    ProducerRing ring;
    u8* buffer;
    rt::BootKeyboardReports reports;
    // Its control endpoint and interface, for setting its LEDs; what they show now.
    ProducerRing control;
    u8 interface;
    u8 leds_shown;
};

class Controller {
public:
    // Takes the controller at `function`, whose registers the kernel reaches at `registers`,
    // over from the firmware and starts it; an error says what failed.
    static rt::ErrorOr<Controller*> take_over(pci::Function, u8 volatile* registers);
    // Enumerates the root ports and the hubs on them, and sets up the boot keyboards found;
    // the log says what each port has. Returns how many keyboards it read.
    u32 find_keyboards();
    // Handles the events the controller has written: keyboard reports, and devices plugged
    // into a root port or pulled out of one since (a keyboard plugged in at the prompt, or
    // one slower to show up than the start allowed, is set up then); returns the next
    // character typed on one of its keyboards by `now_ms`, or -1.
    int poll(u64 now_ms);

private:
    struct Event {
        u32 type, code, slot, endpoint, pointer, remaining;
    };
    // Where a device hangs: a root port and the hub ports below it.
    struct Place {
        u32 root_port;
        u32 route; // the xHCI route string: a hub port number (at most 15) a tier
        u32 depth; // hubs above the device
        u32 speed; // as PORTSC gives it: 1 full, 2 low, 3 high, 4 and up SuperSpeed
        u8 translator_slot, translator_port; // the high-speed hub port a full- or low-speed device's traffic is translated at
        rt::FixedString<24> name; // "5", "5.2", "5.2.1"
    };
    // A device with an address: its slot, control ring, contexts and descriptor.
    struct Device {
        u8 slot;
        ProducerRing control;
        u8* input;  // the input context, reused for each command that changes the slot
        u8* buffer; // what control requests read, 512 bytes
        rt::usb::DeviceDescriptor descriptor;
    };

    rt::ErrorOr<void> take_from_firmware();
    rt::ErrorOr<void> start();
    rt::ErrorOr<void> reset_port(u32 port);
    void enumerate_root_port(u32 port);
    void forget_root_port(u32 port);
    void visit(Place const&);
    rt::ErrorOr<Device> address_device(Place const&);
    rt::ErrorOr<Keyboard*> set_up_keyboard(Device&, Place const&);
    rt::ErrorOr<u8> set_up_hub(Device&, Place const&);
    rt::ErrorOr<u32> reset_hub_port(Device&, u8 port);
    rt::ErrorOr<void> request(Device&, rt::usb::SetupPacket, u8* data = nullptr);
    void fill_slot_context(u32* slot_context, Place const&, u32 context_entries) const;
    rt::ErrorOr<Event> command(Trb);
    rt::ErrorOr<u32> control_transfer(u8 slot, ProducerRing&, u64 setup, u8* data, u16 length, bool reads);
    rt::ErrorOr<Event> wait_for(u32 type, u32 pointer, u8 slot, u32 milliseconds);
    bool next_event(Event&);
    void handle_report(Event const&);
    void ring_doorbell(u32 slot, u32 target);
    void queue_report_read(Keyboard&);
    void show_leds(Keyboard&);
    rt::ErrorOr<u8*> allocate_zeroed(size_t bytes, size_t alignment);
    u32* context(u8* base, u32 index) const { return reinterpret_cast<u32*>(base + index * m_context_size); }

    u8 volatile* m_capabilities { nullptr };
    u8 volatile* m_operational { nullptr };
    u8 volatile* m_runtime { nullptr };
    u32 volatile* m_doorbells { nullptr };
    u32 m_ports { 0 }, m_slots { 0 }, m_context_size { 32 };
    u64* m_device_contexts { nullptr };
    ProducerRing m_commands;
    Trb volatile* m_events { nullptr };
    u32 m_event_next { 0 }, m_event_cycle { 1 };
    static constexpr u32 max_keyboards = 8, max_slots = 16;
    Keyboard* m_keyboards[max_keyboards] {};
    u32 m_keyboard_count { 0 };
    u8 m_root_port_of_slot[max_slots + 1] {}; // 0: the slot is free
    u32 m_ports_changed[8] {}; // root ports with a status change event not yet handled, a bit each
};

}
