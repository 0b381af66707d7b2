// The xHCI register interface (eXtensible Host Controller Interface for USB, rev. 1.2),
// used as xhci.h says: no interrupts, one keyboard report outstanding per keyboard.
// Every wait on the controller or a device is bounded: a controller or device that does
// not answer is named in the log and left alone, never waited on forever.
#include <arch/x86/tsc_calibration.h>
#include <arch/x86/xhci.h>
#include <rt/console.h>
#include <rt/cycles.h>
#include <rt/heap.h>
#include <rt/usb_descriptors.h>

namespace x86::xhci {

using rt::Error;
using rt::ErrorOr;

namespace {

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

u32 volatile& reg32(u8 volatile* base, u32 offset) { return *reinterpret_cast<u32 volatile*>(base + offset); }

// The xHCI takes 64-bit addresses; the kernel's memory lies below 4 GiB.
void write64(u8 volatile* base, u32 offset, u64 value)
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

void sleep_ms(u32 milliseconds) { wait_microseconds(milliseconds * 1000); }

// What the controller's TRB writes and the kernel's reads of them must not be reordered
// across (x86 keeps stores in order; this keeps the compiler from moving them).
void compiler_fence() { asm volatile("" ::: "memory"); }

const char* speed_name(u32 speed)
{
    switch (speed) {
    case 1: return "full speed";
    case 2: return "low speed";
    case 3: return "high speed";
    case 4: return "SuperSpeed";
    case 5: return "SuperSpeedPlus";
    default: return "unknown speed";
    }
}

// The control endpoint's packet size before the device descriptor says (USB 2.0 5.5.3;
// full-speed devices are asked with 8 and corrected).
u32 default_packet_size(u32 speed) { return speed >= 4 ? 512 : speed == 3 ? 64 : 8; }

// An interrupt endpoint's service interval as the endpoint context takes it: 2^n times
// 125 us. Full and low speed give bInterval in frames of 1 ms, faster ones as 2^(b-1)
// microframes (USB 2.0 9.6.6).
u32 interval_exponent(u32 speed, u8 interval)
{
    if (speed >= 3)
        return interval >= 1 && interval <= 16 ? interval - 1u : 3u;
    u32 microframes = (interval ? interval : 1) * 8u, exponent = 0;
    while ((2u << exponent) <= microframes)
        ++exponent;
    return exponent < 3 ? 3 : exponent > 10 ? 10 : exponent;
}

}

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
    for (u32 offset = (capability1 >> 16) * 4; offset;) {
        u32 header = reg32(caps, offset);
        if ((header & 0xFF) == 1) {
            u8 volatile* owner = caps + offset;
            owner[3] = 1; // the OS-owned semaphore
            if (!wait_until(1000, [&] { return (owner[2] & 1) == 0; }))
                rt::println("[usb] the firmware did not let go of the controller within 1 s; taking it anyway");
            owner[2] = 0;
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

u32 Controller::find_keyboards()
{
    for (u32 port = 1; port <= m_ports; ++port)
        if (reg32(m_operational, port_registers + 0x10 * (port - 1)) & port_connected)
            enumerate_root_port(port);
    for (u32& ports : m_ports_changed) // what the start and the resets reported is seen to
        ports = 0;
    return m_keyboard_count;
}

void Controller::enumerate_root_port(u32 port)
{
    if (auto reset = reset_port(port); reset.is_error()) {
        rt::println("[usb] port {}: {}", port, reset.error().message());
        return;
    }
    u32 speed = (reg32(m_operational, port_registers + 0x10 * (port - 1)) >> 10) & 0xF;
    visit({ port, 0, 0, speed, 0, 0, rt::FixedString<24>::formatted("{}", port) });
}

// A device pulled out of root port `port`: the slots of everything that hung there are
// given back (a keyboard's reports have ended with an error already).
void Controller::forget_root_port(u32 port)
{
    for (u32 slot = 1; slot <= m_slots; ++slot) {
        if (m_root_port_of_slot[slot] != port)
            continue;
        (void)command({ 0, 0, type_field(disable_slot_command) | slot_field(slot) });
        m_root_port_of_slot[slot] = 0;
        for (u32 i = 0; i < m_keyboard_count; ++i)
            if (m_keyboards[i]->slot == slot)
                m_keyboards[i--] = m_keyboards[--m_keyboard_count];
    }
}

// The device at `place`: a keyboard is set up and kept, a hub's ports visited in turn;
// what it is and what became of it goes to the log.
void Controller::visit(Place const& place)
{
    auto say = [&](auto const&... what) {
        rt::print("[usb] port {} ({}): ", place.name.view(), speed_name(place.speed));
        rt::println(what...);
    };
    auto device = address_device(place);
    if (device.is_error())
        return say("{}", device.error().message());
    if (device.value().descriptor.device_class == rt::usb::hub_class) {
        auto ports = set_up_hub(device.value(), place);
        if (ports.is_error())
            return say("a hub: {}", ports.error().message());
        say("a hub of {} ports", ports.value());
        for (u8 port = 1; port <= ports.value(); ++port) {
            u8 status_bytes[4] {};
            auto status = request(device.value(), rt::usb::get_port_status(port), status_bytes);
            if (status.is_error() || !rt::usb::parse_port_status(status_bytes).connected())
                continue;
            Place below { place.root_port, place.route | rt::min<u32>(port, 15) << (4 * place.depth), place.depth + 1, 0,
                place.translator_slot, place.translator_port,
                rt::FixedString<24>::formatted("{}.{}", place.name.view(), port) };
            auto speed = reset_hub_port(device.value(), port);
            if (speed.is_error()) {
                rt::println("[usb] port {}: {}", below.name.view(), speed.error().message());
                continue;
            }
            below.speed = speed.value();
            if (place.speed == 3 && below.speed != 3) { // a full- or low-speed device's traffic is translated here
                below.translator_slot = device.value().slot;
                below.translator_port = port;
            }
            if (below.depth > 5)
                rt::println("[usb] port {}: more than five hubs deep (USB allows five)", below.name.view());
            else
                visit(below);
        }
        return;
    }
    auto keyboard = set_up_keyboard(device.value(), place);
    if (keyboard.is_error())
        return say("{}", keyboard.error().message());
    if (m_keyboard_count == max_keyboards)
        return say("a keyboard; {} are read already", max_keyboards);
    say("a keyboard, read through its boot protocol");
    m_keyboards[m_keyboard_count++] = keyboard.value();
}

void Controller::fill_slot_context(u32* slot_context, Place const& place, u32 context_entries) const
{
    slot_context[0] = place.route | place.speed << 20 | context_entries << 27;
    slot_context[1] = place.root_port << 16;
    slot_context[2] = place.translator_slot | u32(place.translator_port) << 8;
}

ErrorOr<void> Controller::request(Device& device, rt::usb::SetupPacket setup, u8* data)
{
    TRY(control_transfer(device.slot, device.control, setup.bits(), data ? data : device.buffer, setup.length, setup.reads()));
    return {};
}

// A slot for the device at `place`, its address set, its device descriptor read.
ErrorOr<Controller::Device> Controller::address_device(Place const& place)
{
    Event enabled = TRY(command({ 0, 0, type_field(enable_slot_command) }));
    Device device {};
    device.slot = u8(enabled.slot);
    if (device.slot == 0 || device.slot > m_slots)
        return Error::format("the controller gave slot {}", device.slot);
    m_root_port_of_slot[device.slot] = u8(place.root_port);
    u8* output = TRY(allocate_zeroed(32 * m_context_size, 64));
    m_device_contexts[device.slot] = uptr(output);
    device.input = TRY(allocate_zeroed(33 * m_context_size, 64));
    device.buffer = TRY(allocate_zeroed(512, 64));
    TRY(device.control.allocate());

    // The input context: its control context (which contexts to take), the slot, endpoint 0.
    u32 packet_size = default_packet_size(place.speed);
    u32* add = context(device.input, 0);
    u32* endpoint0 = context(device.input, 2);
    add[1] = 0x3; // the slot and endpoint 0
    fill_slot_context(context(device.input, 1), place, 1);
    endpoint0[1] = 3u << 1 | control_endpoint << 3 | packet_size << 16; // three retries on errors
    endpoint0[2] = device.control.address() | 1u; // dequeue pointer and cycle state
    endpoint0[4] = 8; // average TRB length: the setup packets
    TRY(command({ uptr(device.input), 0, type_field(address_device_command) | slot_field(device.slot) }));

    TRY(request(device, rt::usb::get_descriptor(rt::usb::device_descriptor, 8)));
    auto first = TRY(rt::usb::parse_device_descriptor({ device.buffer, 8 }));
    u32 actual_size = first.control_packet_size == 9 ? 512 : first.control_packet_size;
    if (actual_size != packet_size) { // a full-speed device with larger control packets
        add[1] = 0x2;
        endpoint0[1] = (endpoint0[1] & 0xFFFF) | actual_size << 16;
        TRY(command({ uptr(device.input), 0, type_field(evaluate_context_command) | slot_field(device.slot) }));
    }
    TRY(request(device, rt::usb::get_descriptor(rt::usb::device_descriptor, 18)));
    device.descriptor = TRY(rt::usb::parse_device_descriptor({ device.buffer, 18 }));
    return device;
}

ErrorOr<Keyboard*> Controller::set_up_keyboard(Device& device, Place const& place)
{
    u8 slot = device.slot;
    TRY(request(device, rt::usb::get_descriptor(rt::usb::configuration_descriptor, 9)));
    u16 total = rt::min(TRY(rt::usb::configuration_length({ device.buffer, 9 })), u16(512));
    TRY(request(device, rt::usb::get_descriptor(rt::usb::configuration_descriptor, total)));
    auto found = rt::usb::find_boot_keyboard({ device.buffer, total });
    if (found.is_error())
        return Error::format("{:04x}:{:04x}, {}", device.descriptor.vendor, device.descriptor.product, found.error().message());
    auto keyboard_interface = found.value();
    TRY(request(device, rt::usb::set_configuration(keyboard_interface.configuration)));

    auto* keyboard = new (TRY(rt::Heap::the().allocate(sizeof(Keyboard), 64))) Keyboard {};
    keyboard->slot = slot;
    keyboard->endpoint = u8(2 * (keyboard_interface.endpoint_address & 0xF) + 1); // an IN endpoint's context index
    keyboard->buffer = TRY(allocate_zeroed(64, 64));
    TRY(keyboard->ring.allocate());

    // The interrupt endpoint's context, added to the slot's.
    __builtin_memset(device.input, 0, 33 * m_context_size);
    context(device.input, 0)[1] = 1u | 1u << keyboard->endpoint;
    fill_slot_context(context(device.input, 1), place, keyboard->endpoint);
    u32* endpoint = context(device.input, 1u + keyboard->endpoint);
    u32 max_packet = rt::min<u32>(keyboard_interface.packet_size, 1024);
    endpoint[0] = interval_exponent(place.speed, keyboard_interface.interval) << 16;
    endpoint[1] = 3u << 1 | interrupt_in_endpoint << 3 | max_packet << 16;
    endpoint[2] = keyboard->ring.address() | 1u;
    endpoint[4] = 8u | max_packet << 16; // average TRB length; the most bytes it moves an interval
    TRY(command({ uptr(device.input), 0, type_field(configure_endpoint_command) | slot_field(slot) }));

    TRY(request(device, rt::usb::set_boot_protocol(keyboard_interface.interface)));
    // Keyboards may refuse to be told not to repeat (a stall): then they send each report
    // again while keys are held, which the decoder treats as no change.
    (void)request(device, rt::usb::set_idle(keyboard_interface.interface));
    queue_report_read(*keyboard);
    return keyboard;
}

// A hub configured, the controller told it is one (so it routes to the devices below),
// its ports powered; returns how many ports it has. Its ports' status is asked for, not
// reported on its interrupt endpoint (that is left unconfigured).
ErrorOr<u8> Controller::set_up_hub(Device& device, Place const& place)
{
    if (place.speed >= 4)
        return Error::format("a SuperSpeed hub (its USB 2 half, on a USB 2 port, is read)");
    TRY(request(device, rt::usb::get_descriptor(rt::usb::configuration_descriptor, 9)));
    TRY(rt::usb::configuration_length({ device.buffer, 9 }));
    TRY(request(device, rt::usb::set_configuration(device.buffer[5])));
    TRY(request(device, rt::usb::get_hub_descriptor(9)));
    auto hub = TRY(rt::usb::parse_hub_descriptor({ device.buffer, 9 }));

    __builtin_memset(device.input, 0, 33 * m_context_size);
    context(device.input, 0)[1] = 1u; // the slot alone
    u32* slot_context = context(device.input, 1);
    fill_slot_context(slot_context, place, 1);
    slot_context[0] |= 1u << 26 | (device.descriptor.device_protocol == 2 ? 1u << 25 : 0); // a hub; one translator a port
    slot_context[1] |= u32(hub.ports) << 24;
    if (place.speed == 3)
        slot_context[2] |= u32(hub.think_time) << 16;
    TRY(command({ uptr(device.input), 0, type_field(configure_endpoint_command) | slot_field(device.slot) }));

    for (u8 port = 1; port <= hub.ports; ++port)
        TRY(request(device, rt::usb::set_port_feature(port, rt::usb::hub_port_power)));
    sleep_ms(rt::max(hub.power_on_ms, 20u) + 100); // power good, then time for devices to be seen connected
    return hub.ports;
}

// Resets a hub's port with a device on it; returns the device's speed (as PORTSC gives it).
ErrorOr<u32> Controller::reset_hub_port(Device& hub, u8 port)
{
    TRY(request(hub, rt::usb::set_port_feature(port, rt::usb::hub_port_reset)));
    rt::usb::HubPortStatus status {};
    bool reset = wait_until(500, [&] {
        u8 bytes[4] {};
        if (request(hub, rt::usb::get_port_status(port), bytes).is_error())
            return false;
        status = rt::usb::parse_port_status(bytes);
        return status.reset_changed();
    });
    if (!reset)
        return Error::format("its reset did not end within 500 ms");
    TRY(request(hub, rt::usb::clear_port_feature(port, rt::usb::hub_port_reset_changed)));
    TRY(request(hub, rt::usb::clear_port_feature(port, rt::usb::hub_port_connection_changed)));
    if (!status.enabled())
        return Error::format("not enabled after a reset");
    sleep_ms(10); // the reset recovery time
    return status.low_speed() ? 2u : status.high_speed() ? 3u : 1u;
}

void Controller::queue_report_read(Keyboard& keyboard)
{
    keyboard.ring.push({ uptr(keyboard.buffer), rt::BootKeyboardReports::report_size,
        type_field(normal_trb) | interrupt_on_completion | short_packet_interrupt });
    ring_doorbell(keyboard.slot, keyboard.endpoint);
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
        if (int c = m_keyboards[i]->reports.next(now_ms); c >= 0)
            return c;
    return -1;
}

}
