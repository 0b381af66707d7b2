// libFuzzer target: what a USB device says of itself is untrusted (a broken or hostile
// device, a stick posing as a keyboard). The input is a device descriptor (18 bytes), a
// configuration descriptor (as long as its header says, at most the rest; the same bytes
// are also read as a hub's descriptor) and then boot keyboard reports of 8 bytes: each must be parsed or refused without reading out of
// bounds, a keyboard found must be one the driver can set up, and reports must only ever
// give keys a person can type (characters, whole in UTF-8, in every layout; Ctrl with a
// letter; the cursor block's keys).
#include "fuzz_support.h"
#include <rt/hid_keyboard.h>
#include <rt/keyboard_layout.h>
#include <rt/keys.h>
#include <rt/utf8.h>
#include <rt/usb_descriptors.h>

namespace {

void require(bool holds)
{
    if (!holds)
        abort();
}

bool typeable(int c)
{
    return (c >= 0x20 && c < 0x7F) || c == '\n' || c == '\b' || c == '\t' || c == rt::key::escape
        || (c >= rt::key::control('a') && c <= rt::key::control('z')) || (c >= rt::key::up && c <= rt::key::forward_delete)
        || (c >= 0x80 && c <= 0xFF); // a byte of a character beyond ASCII (the layouts' é, ü, £ ...)
}

// What the keyboard typed, read as a reader would: every key typeable, and the bytes
// beyond ASCII whole characters of UTF-8, never a part of one.
class TypedText {
public:
    void take(int key)
    {
        require(typeable(key));
        u32 characters[2];
        size_t count = m_decoder.take(u8(key < 0x100 ? key : ' '), characters);
        for (size_t i = 0; i < count; ++i)
            require(characters[i] != rt::Utf8Decoder::replacement);
    }

private:
    rt::Utf8Decoder m_decoder;
};

}

extern "C" int LLVMFuzzerTestOneInput(const u8* data, size_t size)
{
    size_t device_bytes = size < rt::usb::device_descriptor_size ? size : rt::usb::device_descriptor_size;
    auto device = rt::usb::parse_device_descriptor({ data, device_bytes });
    if (!device.is_error()) {
        u8 packet = device.value().control_packet_size;
        require(packet == 8 || packet == 16 || packet == 32 || packet == 64 || packet == 9);
    }
    const u8* rest = data + device_bytes;
    size_t left = size - device_bytes;
    auto length = rt::usb::configuration_length({ rest, left < rt::usb::configuration_header_size ? left : rt::usb::configuration_header_size });
    size_t configuration_bytes = 0;
    if (!length.is_error()) {
        require(length.value() >= rt::usb::configuration_header_size);
        configuration_bytes = length.value() < left ? length.value() : left;
        auto keyboard = rt::usb::find_boot_keyboard({ rest, configuration_bytes });
        if (!keyboard.is_error()) {
            require(keyboard.value().endpoint_address & 0x80);
            require(keyboard.value().packet_size > 0 && keyboard.value().packet_size <= 0x7FF);
        }
    }
    // Each report a report's second byte (reserved, any value a device sends) times 10 ms
    // after the one before, so keys repeat too.
    // The same bytes as a hub's descriptor: a hub must have ports.
    auto hub = rt::usb::parse_hub_descriptor({ rest, left });
    if (!hub.is_error())
        require(hub.value().ports > 0 && hub.value().think_time < 4);

    // Every layout, by the input's length (the keys' bytes are all the device's).
    rt::KeyboardLayout::set_active(*rt::KeyboardLayout::find(rt::keyboard_layout_names[size % (sizeof rt::keyboard_layout_names / sizeof rt::keyboard_layout_names[0])]));
    rt::BootKeyboardReports reports;
    TypedText text;
    u64 now = 0;
    for (size_t at = device_bytes + configuration_bytes; at < size; at += rt::BootKeyboardReports::report_size) {
        size_t report = size - at < rt::BootKeyboardReports::report_size ? size - at : rt::BootKeyboardReports::report_size;
        now += report > 1 ? data[at + 1] * 10u : 0;
        reports.take(data + at, report, now);
        if (data[at] & 0x40) // now and then read what is waiting, as the console's polling does
            for (int c = reports.next(now), read = 0; c >= 0 && read < 64; c = reports.next(now), ++read)
                text.take(c);
    }
    for (int c = reports.next(now), read = 0; c >= 0 && read < 64; c = reports.next(now), ++read)
        text.take(c);
    return 0;
}
