#pragma once
// USB's standard requests and descriptors (USB 2.0 chapter 9), as far as finding and
// setting up a keyboard needs them. Descriptors come from the device: every length in them
// is checked before it is followed.
#include <rt/error.h>
#include <rt/span.h>

namespace rt::usb {

// The 8 bytes that begin every control transfer.
struct SetupPacket {
    u8 request_type, request;
    u16 value, index, length;

    u64 bits() const { return u64(request_type) | u64(request) << 8 | u64(value) << 16 | u64(index) << 32 | u64(length) << 48; }
    bool reads() const { return request_type & 0x80; } // device to host
};

constexpr u8 device_descriptor = 1, configuration_descriptor = 2;
constexpr size_t device_descriptor_size = 18, configuration_header_size = 9;

SetupPacket get_descriptor(u8 type, u16 length);
SetupPacket set_configuration(u8 value);
// HID class requests to interface `interface`: the boot protocol's fixed 8-byte reports,
// and reports only when a key changes (no repeats while it is held).
SetupPacket set_boot_protocol(u8 interface);
SetupPacket set_idle(u8 interface);
// HID SET_REPORT of a keyboard's one-byte output report: its LEDs (BootKeyboardReports::leds).
SetupPacket set_keyboard_leds(u8 interface);

struct DeviceDescriptor {
    u8 device_class, device_protocol; // a hub's protocol: 1 one transaction translator, 2 one per port
    u8 control_packet_size; // bMaxPacketSize0
    u16 vendor, product;
};
ErrorOr<DeviceDescriptor> parse_device_descriptor(Bytes);

// What reading a keyboard takes: the configuration to select, the interface that speaks
// the HID boot keyboard protocol, and its interrupt IN endpoint.
struct BootKeyboard {
    u8 configuration;
    u8 interface;
    u8 endpoint_address; // with bit 7 set: IN
    u16 packet_size;
    u8 interval; // bInterval as the descriptor gives it
};

constexpr u8 hub_class = 9;

// A USB 2.0 hub's own requests (USB 2.0 11.24): its descriptor, and its ports' status and
// features (ports count from 1).
struct HubDescriptor {
    u8 ports;
    u32 power_on_ms;   // from switching a port's power on until it is good
    u8 think_time;     // a high-speed hub's transaction translator think time, in 8-bit-time units minus one
};
constexpr u16 hub_port_reset = 4, hub_port_power = 8, hub_port_connection_changed = 16, hub_port_reset_changed = 20;
struct HubPortStatus {
    u16 status, change;
    bool connected() const { return status & 0x0001; }
    bool enabled() const { return status & 0x0002; }
    bool low_speed() const { return status & 0x0200; }
    bool high_speed() const { return status & 0x0400; }
    bool reset_changed() const { return change & 0x0010; }
};
SetupPacket get_hub_descriptor(u16 length);
SetupPacket get_port_status(u8 port);
SetupPacket set_port_feature(u8 port, u16 feature);
SetupPacket clear_port_feature(u8 port, u16 feature);
ErrorOr<HubDescriptor> parse_hub_descriptor(Bytes);
HubPortStatus parse_port_status(u8 const (&bytes)[4]);

// The configuration descriptor's total length (wTotalLength), from its first 9 bytes.
ErrorOr<u16> configuration_length(Bytes header);
// The first boot keyboard interface (class 3, subclass 1, protocol 1) of a whole
// configuration descriptor and the interrupt IN endpoint it has; an error saying what
// the configuration holds instead.
ErrorOr<BootKeyboard> find_boot_keyboard(Bytes configuration);

}
