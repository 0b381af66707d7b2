#include <rt/usb_descriptors.h>

namespace rt::usb {

namespace {
constexpr u8 get_descriptor_request = 6, set_configuration_request = 9;
constexpr u8 hid_set_report = 0x09, hid_set_idle = 0x0A, hid_set_protocol = 0x0B;
constexpr u16 output_report = 2 << 8;
constexpr u8 standard_to_device = 0x00, standard_from_device = 0x80, class_to_interface = 0x21;
constexpr u8 class_from_device = 0xA0, class_to_port = 0x23, class_from_port = 0xA3;
constexpr u8 get_status_request = 0, clear_feature_request = 1, set_feature_request = 3;
constexpr u8 hub_descriptor = 0x29;
constexpr u8 interface_descriptor = 4, endpoint_descriptor = 5;
constexpr u8 hid_class = 3, boot_subclass = 1, keyboard_protocol = 1;
constexpr u8 interrupt_transfers = 3;

u16 le16(Bytes bytes, size_t at) { return u16(bytes[at] | bytes[at + 1] << 8); }
}

SetupPacket get_descriptor(u8 type, u16 length) { return { standard_from_device, get_descriptor_request, u16(type << 8), 0, length }; }
SetupPacket set_configuration(u8 value) { return { standard_to_device, set_configuration_request, value, 0, 0 }; }
SetupPacket set_boot_protocol(u8 interface) { return { class_to_interface, hid_set_protocol, 0, interface, 0 }; }
SetupPacket set_idle(u8 interface) { return { class_to_interface, hid_set_idle, 0, interface, 0 }; }
SetupPacket set_keyboard_leds(u8 interface) { return { class_to_interface, hid_set_report, output_report, interface, 1 }; }

ErrorOr<DeviceDescriptor> parse_device_descriptor(Bytes bytes)
{
    if (bytes.size() < 8 || bytes[1] != device_descriptor)
        return Error::format("not a device descriptor ({} bytes, type {})", bytes.size(), bytes.size() > 1 ? bytes[1] : 0);
    u8 packet_size = bytes[7];
    if (packet_size != 8 && packet_size != 16 && packet_size != 32 && packet_size != 64 && packet_size != 9) // 9: 2^9 for USB 3
        return Error::format("control packets of {} bytes: not a size USB allows", packet_size);
    DeviceDescriptor descriptor { bytes[4], bytes[6], packet_size, 0, 0 };
    if (bytes.size() >= 12) {
        descriptor.vendor = le16(bytes, 8);
        descriptor.product = le16(bytes, 10);
    }
    return descriptor;
}

SetupPacket get_hub_descriptor(u16 length) { return { class_from_device, get_descriptor_request, u16(hub_descriptor << 8), 0, length }; }
SetupPacket get_port_status(u8 port) { return { class_from_port, get_status_request, 0, port, 4 }; }
SetupPacket set_port_feature(u8 port, u16 feature) { return { class_to_port, set_feature_request, feature, port, 0 }; }
SetupPacket clear_port_feature(u8 port, u16 feature) { return { class_to_port, clear_feature_request, feature, port, 0 }; }

ErrorOr<HubDescriptor> parse_hub_descriptor(Bytes bytes)
{
    if (bytes.size() < 7 || bytes[0] < 7 || bytes[1] != hub_descriptor)
        return Error::format("not a hub descriptor ({} bytes, type {})", bytes.size(), bytes.size() > 1 ? bytes[1] : 0);
    if (bytes[2] == 0)
        return Error::format("a hub of no ports");
    u16 characteristics = le16(bytes, 3);
    return HubDescriptor { bytes[2], bytes[5] * 2u, u8((characteristics >> 5) & 3) };
}

HubPortStatus parse_port_status(u8 const (&bytes)[4]) { return { u16(bytes[0] | bytes[1] << 8), u16(bytes[2] | bytes[3] << 8) }; }

ErrorOr<u16> configuration_length(Bytes header)
{
    if (header.size() < configuration_header_size || header[1] != configuration_descriptor)
        return Error::format("not a configuration descriptor");
    u16 total = le16(header, 2);
    if (total < configuration_header_size)
        return Error::format("a configuration descriptor of {} bytes", total);
    return total;
}

ErrorOr<BootKeyboard> find_boot_keyboard(Bytes configuration)
{
    TRY(configuration_length(configuration));
    BootKeyboard keyboard {};
    keyboard.configuration = configuration[5];
    bool in_keyboard_interface = false;
    u8 first_class = 0;
    bool any_interface = false;
    // Descriptors follow one another, each starting with its length and type.
    for (size_t at = configuration[0]; at + 2 <= configuration.size();) {
        u8 length = configuration[at], type = configuration[at + 1];
        if (length < 2 || at + length > configuration.size())
            return Error::format("a descriptor of {} bytes at offset {} of {}", length, at, configuration.size());
        if (type == interface_descriptor && length >= 9) {
            u8 interface_class = configuration[at + 5];
            if (!any_interface)
                first_class = interface_class;
            any_interface = true;
            in_keyboard_interface = configuration[at + 3] == 0 && interface_class == hid_class
                && configuration[at + 6] == boot_subclass && configuration[at + 7] == keyboard_protocol;
            keyboard.interface = configuration[at + 2];
        } else if (type == endpoint_descriptor && length >= 7 && in_keyboard_interface) {
            u8 address = configuration[at + 2], attributes = configuration[at + 3];
            if ((address & 0x80) && (attributes & 3) == interrupt_transfers) {
                keyboard.endpoint_address = address;
                keyboard.packet_size = le16(configuration, at + 4) & 0x7FF;
                keyboard.interval = configuration[at + 6];
                if (keyboard.packet_size == 0)
                    return Error::format("a keyboard endpoint of 0-byte packets");
                return keyboard;
            }
        }
        at += length;
    }
    if (!any_interface)
        return Error::format("no interfaces");
    return Error::format("interface class {}, no boot keyboard", first_class);
}

}
