// What hangs on an xHCI controller's ports: each device addressed and asked what it is,
// USB 2 hubs configured and their ports visited in turn, boot keyboards set up to report
// keys (xhci.h). What each port has goes to the log, one line a device.
#include "xhci_registers.h"
#include <arch/x86/xhci.h>
#include <rt/console.h>
#include <rt/heap.h>

namespace x86::xhci {

using rt::Error;
using rt::ErrorOr;

namespace {

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

u32 Controller::find_keyboards()
{
    for (u32 port = 1; port <= m_ports; ++port)
        if (reg32(m_operational, port_registers + 0x10 * (port - 1)) & port_connected)
            enumerate_root_port(port);
    // The change events of the start and of these resets stay for poll(): their ports'
    // connect-change bits are clear by now, but a device that showed up meanwhile is seen.
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
    keyboard->control = device.control; // as the requests left it
    keyboard->interface = keyboard_interface.interface;
    show_leds(*keyboard);
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

}
