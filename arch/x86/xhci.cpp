// The xHCI controller itself (eXtensible Host Controller Interface for USB, rev. 1.2), used
// as xhci.h says: taken from the firmware, reset and started, its rings, commands, control
// transfers and events; no interrupts, one keyboard report outstanding per keyboard. Every
// wait on the controller or a device is bounded: one that does not answer is named in the
// log and left alone, never waited on forever.
#include "xhci_registers.h"
#include <arch/x86/xhci.h>
#include <rt/console.h>
#include <rt/heap.h>

namespace x86::xhci {

using rt::Error;
using rt::ErrorOr;

ErrorOr<void> ProducerRing::allocate()
{
    void* memory = TRY(rt::Heap::the().allocate(size * sizeof(Trb), 4096)); // within one page: no 64 KiB crossing
    __builtin_memset(memory, 0, size * sizeof(Trb));
    m_trbs = static_cast<Trb volatile*>(memory);
    m_trbs[size - 1].parameter = address();
    m_trbs[size - 1].control = type_field(link_trb) | toggle_cycle;
    return {};
}

u32 ProducerRing::push(Trb trb)
{
    Trb volatile& slot = m_trbs[m_next];
    slot.parameter = trb.parameter;
    slot.status = trb.status;
    compiler_fence();
    slot.control = (trb.control & ~cycle_bit) | m_cycle; // last: it hands the TRB over
    u32 at = u32(uptr(&slot));
    if (++m_next == size - 1) { // the link: hand it over too, and go round with the other cycle
        compiler_fence();
        m_trbs[size - 1].control = (m_trbs[size - 1].control & ~cycle_bit) | m_cycle;
        m_cycle ^= 1;
        m_next = 0;
    }
    return at;
}

ErrorOr<u8*> Controller::allocate_zeroed(size_t bytes, size_t alignment)
{
    void* memory = TRY(rt::Heap::the().allocate(bytes, alignment));
    __builtin_memset(memory, 0, bytes);
    return static_cast<u8*>(memory);
}

namespace {

// Intel's chipsets of 2012-2015 (7, 8 and 9 series) start with their USB 2 ports wired to
// their EHCI controllers and their USB 3 ports off; a keyboard on such a port is invisible
// to the xHCI until the ports are switched over. The registers that do it (XUSB2PR,
// USB3_PSSEN) take the masks of the ports that may be switched (USB2PRM, USB3PRM).
void route_intel_ports_to_xhci(pci::Function function)
{
    constexpr u16 switchable[] = { 0x1E31, 0x8C31, 0x9C31, 0x8CB1, 0x9CB1, 0x8D31 };
    if (function.vendor() != 0x8086)
        return;
    bool listed = false;
    for (u16 id : switchable)
        listed = listed || function.device_id() == id;
    if (!listed)
        return;
    function.write32(0xD8, function.read32(0xDC)); // SuperSpeed on, where allowed
    function.write32(0xD0, function.read32(0xD4)); // USB 2 ports to the xHCI
    rt::println("[usb] Intel xHCI {:04x}: USB 2 ports switched over from EHCI", function.device_id());
}

}

ErrorOr<Controller*> Controller::take_over(pci::Function function, u8 volatile* registers)
{
    function.enable_memory_and_dma();
    auto* controller = new (TRY(rt::Heap::the().allocate(sizeof(Controller), 64))) Controller;
    controller->m_capabilities = registers;
    TRY(controller->take_from_firmware());
    route_intel_ports_to_xhci(function);
    TRY(controller->start());
    return controller;
}

// Reads what the controller is made of, and asks the firmware for it.
ErrorOr<void> Controller::take_from_firmware()
{
    u8 volatile* caps = m_capabilities;
    u32 structural1 = reg32(caps, 0x04), capability1 = reg32(caps, 0x10);
    m_operational = caps + (reg32(caps, 0x00) & 0xFF);
    m_runtime = caps + (reg32(caps, 0x18) & ~0x1Fu);
    m_doorbells = reinterpret_cast<u32 volatile*>(caps + (reg32(caps, 0x14) & ~0x3u));
    m_slots = rt::min(structural1 & 0xFF, max_slots);
    m_ports = structural1 >> 24;
    m_context_size = capability1 & (1u << 2) ? 64 : 32;
    if (reg32(caps, 0x00) == 0xFFFFFFFF)
        return Error::format("its registers read as all ones (switched off?)");

    // The firmware may be using the controller (its USB keyboard emulation): ask for it
    // through the legacy-support capability (xHCI 7.1), and stop its SMIs.
    // The list's links only go forward; a broken one still ends within 64 capabilities.
    u32 offset = (capability1 >> 16) * 4;
    for (u32 seen = 0; offset && seen < 64; ++seen) {
        u32 header = reg32(caps, offset);
        if ((header & 0xFF) == 1) {
            // Whole-register accesses, as every driver makes them (not all controllers take
            // byte writes here): bit 24 is the OS's semaphore, bit 16 the firmware's.
            u32 volatile& semaphores = reg32(caps, offset);
            constexpr u32 os_owned = 1u << 24, firmware_owned = 1u << 16;
            semaphores = semaphores | os_owned;
            if (!wait_until(1000, [&] { return (semaphores & firmware_owned) == 0; }))
                rt::println("[usb] the firmware did not let go of the controller within 1 s; taking it anyway");
            semaphores = (semaphores & ~firmware_owned) | os_owned;
            u32 control = reg32(caps, offset + 4);
            reg32(caps, offset + 4) = control & 0xE0000000u; // SMI enables off, their status cleared
            break;
        }
        u32 next = (header >> 8) & 0xFF;
        offset = next ? offset + next * 4 : 0;
    }
    return {};
}

// Resets the controller, gives it its rings and starts it, its ports powered.
ErrorOr<void> Controller::start()
{
    u32 structural2 = reg32(m_capabilities, 0x08);
    u8 volatile* op = m_operational;
    if (!wait_until(1000, [&] { return !(reg32(op, usb_status) & not_ready); }))
        return Error::format("not ready after 1 s");
    reg32(op, usb_command) = reg32(op, usb_command) & ~run;
    if (!wait_until(100, [&] { return reg32(op, usb_status) & halted; }))
        return Error::format("did not halt");
    reg32(op, usb_command) = host_reset;
    if (!wait_until(1000, [&] { return !(reg32(op, usb_command) & host_reset) && !(reg32(op, usb_status) & not_ready); }))
        return Error::format("did not finish its reset within 1 s");
    sleep_ms(10); // some controllers want a moment after the reset before they are written

    reg32(op, configure) = m_slots;
    m_device_contexts = reinterpret_cast<u64*>(TRY(allocate_zeroed(8 * (m_slots + 1), 64)));
    u32 scratchpads = ((structural2 >> 21) & 0x1F) << 5 | structural2 >> 27;
    if (scratchpads) { // memory the controller keeps for itself, pages of its page size
        u32 sizes = reg32(op, 0x08) & 0xFFFF; // bit n: pages of 2^(n + 12) bytes
        u32 page = sizes ? (sizes & (0u - sizes)) << 12 : 4096;
        auto* pointers = reinterpret_cast<u64*>(TRY(allocate_zeroed(8 * scratchpads, 64)));
        for (u32 i = 0; i < scratchpads; ++i)
            pointers[i] = uptr(TRY(allocate_zeroed(page, page)));
        m_device_contexts[0] = uptr(pointers);
    }
    write64(op, device_contexts_pointer, uptr(m_device_contexts));

    TRY(m_commands.allocate());
    write64(op, command_ring_control, m_commands.address() | 1u);

    // One event ring segment of 256 TRBs, on interrupter 0.
    constexpr u32 event_count = 256;
    m_events = reinterpret_cast<Trb volatile*>(TRY(allocate_zeroed(event_count * sizeof(Trb), 4096)));
    auto* segment_table = reinterpret_cast<u32*>(TRY(allocate_zeroed(64, 64)));
    segment_table[0] = u32(uptr(m_events));
    segment_table[2] = event_count;
    u8 volatile* interrupter = m_runtime + 0x20;
    reg32(interrupter, 0x08) = 1; // one segment
    write64(interrupter, 0x18, uptr(m_events));
    write64(interrupter, 0x10, uptr(segment_table)); // last: this enables the ring

    reg32(op, usb_command) = run;
    if (!wait_until(100, [&] { return !(reg32(op, usb_status) & halted); }))
        return Error::format("did not start");
    for (u32 port = 1; port <= m_ports; ++port) {
        u32 volatile& status = reg32(op, port_registers + 0x10 * (port - 1));
        if (!(status & port_power))
            status = (status & port_kept_bits) | port_power;
    }
    sleep_ms(250); // for devices to be seen as connected and SuperSpeed links to come up
    return {};
}

void Controller::ring_doorbell(u32 slot, u32 target)
{
    compiler_fence();
    m_doorbells[slot] = target;
}

bool Controller::next_event(Event& event)
{
    Trb volatile& trb = m_events[m_event_next];
    u32 control = trb.control;
    if ((control & cycle_bit) != m_event_cycle)
        return false;
    compiler_fence();
    event = { (control >> 10) & 0x3F, trb.status >> 24, control >> 24, (control >> 16) & 0x1F, u32(trb.parameter), trb.status & 0xFFFFFF };
    if (event.type == port_status_change_event) { // the port's number in the parameter's top byte
        u32 port = event.pointer >> 24;
        m_ports_changed[port / 32 % 8] |= 1u << (port % 32);
    }
    if (++m_event_next == 256) {
        m_event_next = 0;
        m_event_cycle ^= 1;
    }
    // Tell the controller how far the ring is read (and clear its event-handler-busy bit).
    write64(m_runtime + 0x20, 0x18, uptr(&m_events[m_event_next]) | (1u << 3));
    return true;
}

// Waits for the event of the TRB at `pointer`: a command's completion, or (slot given) the
// end of a control transfer on that slot's endpoint 0, or the error that cut it short,
// which names an earlier TRB of it. Keyboard reports that come meanwhile are taken.
ErrorOr<Controller::Event> Controller::wait_for(u32 type, u32 pointer, u8 slot, u32 milliseconds)
{
    Event found {};
    bool seen = wait_until(milliseconds, [&] {
        Event event;
        while (next_event(event)) {
            bool failed_transfer = event.type == transfer_event && event.slot == slot && event.endpoint == 1
                && event.code != success && event.code != short_packet;
            if ((event.type == type && event.pointer == pointer) || (type == transfer_event && failed_transfer)) {
                found = event;
                return true;
            }
            if (event.type == transfer_event)
                handle_report(event);
        }
        return false;
    });
    if (!seen)
        return Error::format("no answer within {} ms", milliseconds);
    return found;
}

ErrorOr<Controller::Event> Controller::command(Trb trb)
{
    u32 at = m_commands.push(trb);
    ring_doorbell(0, 0);
    Event event = TRY(wait_for(command_completion_event, at, 0, 1000));
    if (event.code != success)
        return Error::format("command {} failed with completion code {}", (trb.control >> 10) & 0x3F, event.code);
    return event;
}

ErrorOr<u32> Controller::control_transfer(u8 slot, ProducerRing& ring, u64 setup, u8* data, u16 length, bool reads)
{
    u32 transfer_type = length == 0 ? 0 : reads ? 3 : 2;
    ring.push({ setup, 8, type_field(setup_trb) | immediate_data | transfer_type << 16 });
    if (length)
        ring.push({ uptr(data), length, type_field(data_trb) | (reads ? direction_in : 0) });
    u32 status = ring.push({ 0, 0, type_field(status_trb) | interrupt_on_completion | (reads && length ? 0 : direction_in) });
    ring_doorbell(slot, 1);
    Event event = TRY(wait_for(transfer_event, status, slot, 1000));
    if (event.code != success && event.code != short_packet)
        return Error::format("control request {:#x} failed with completion code {}", u32(setup >> 8) & 0xFF, event.code);
    return length;
}

ErrorOr<void> Controller::reset_port(u32 port)
{
    u32 volatile& status = reg32(m_operational, port_registers + 0x10 * (port - 1));
    if (!(status & port_enabled)) { // USB 2 ports are enabled by a reset; SuperSpeed ones by their link
        status = (status & port_kept_bits) | port_reset;
        if (!wait_until(500, [&] { return status & reset_changed; }))
            return Error::format("its reset did not end within 500 ms");
    }
    status = (status & port_kept_bits) | port_change_bits;
    if (!(status & port_enabled))
        return Error::format("not enabled after a reset");
    sleep_ms(10); // the reset recovery time a device may take (USB 2.0 7.1.7.5)
    return {};
}

void Controller::queue_report_read(Keyboard& keyboard)
{
    keyboard.ring.push({ uptr(keyboard.buffer), rt::BootKeyboardReports::report_size,
        type_field(normal_trb) | interrupt_on_completion | short_packet_interrupt });
    ring_doorbell(keyboard.slot, keyboard.endpoint);
}

// Sets the keyboard's LEDs to what its reports call for (after caps lock). A keyboard that
// refuses is not asked again until the next change.
void Controller::show_leds(Keyboard& keyboard)
{
    keyboard.leds_shown = keyboard.reports.leds();
    keyboard.buffer[32] = keyboard.leds_shown; // the report's byte, beside the reports read into the buffer's start
    (void)control_transfer(keyboard.slot, keyboard.control, rt::usb::set_keyboard_leds(keyboard.interface).bits(), keyboard.buffer + 32, 1, false);
}

void Controller::handle_report(Event const& event)
{
    for (u32 i = 0; i < m_keyboard_count; ++i) {
        Keyboard& keyboard = *m_keyboards[i];
        if (keyboard.slot != event.slot || keyboard.endpoint != event.endpoint)
            continue;
        if (event.code == success || event.code == short_packet) {
            size_t received = rt::BootKeyboardReports::report_size - rt::min<u32>(event.remaining, rt::BootKeyboardReports::report_size);
            keyboard.reports.take(keyboard.buffer, received, rt::milliseconds_now());
            queue_report_read(keyboard);
        } else {
            keyboard.reports.release_all();
        }
        // Any other code (the keyboard unplugged, a halted endpoint): that keyboard is not
        // read again, and nothing is queued that would fail once more.
        return;
    }
}

int Controller::poll(u64 now_ms)
{
    Event event;
    while (next_event(event))
        if (event.type == transfer_event)
            handle_report(event);
    for (u32 port = 1; port <= m_ports; ++port) {
        u32& changed = m_ports_changed[port / 32 % 8];
        if (!(changed & (1u << (port % 32))))
            continue;
        changed &= ~(1u << (port % 32));
        u32 volatile& status = reg32(m_operational, port_registers + 0x10 * (port - 1));
        u32 seen = status;
        status = (seen & port_kept_bits) | (seen & port_change_bits); // those seen, cleared
        if (!(seen & (1u << 17))) // no connect status change: a reset or link change of ours
            continue;
        forget_root_port(port);
        rt::println(""); // off the line being typed (a prompt, most likely)
        if (seen & port_connected)
            enumerate_root_port(port);
        else
            rt::println("[usb] port {}: unplugged", port);
    }
    for (u32 i = 0; i < m_keyboard_count; ++i)
        if (m_keyboards[i]->reports.leds() != m_keyboards[i]->leds_shown)
            show_leds(*m_keyboards[i]);
    for (u32 i = 0; i < m_keyboard_count; ++i)
        if (int c = m_keyboards[i]->reports.next(now_ms); c >= 0)
            return c;
    return -1;
}

}
