// USB descriptors as devices send them (rt/usb_descriptors.h) and a boot keyboard's reports
// turned into characters (rt/hid_keyboard.h).
#include <gtest/gtest.h>
#include <rt/hid_keyboard.h>
#include <rt/keys.h>
#include <rt/usb_descriptors.h>
#include <string>
#include <vector>

namespace {

using Bytes = std::vector<u8>;

Bytes configuration(std::vector<Bytes> const& parts, u8 value = 1)
{
    Bytes out = { 9, 2, 0, 0, 0, value, 0, 0xA0, 50 };
    u8 interfaces = 0;
    for (auto const& part : parts) {
        interfaces += part[1] == 4;
        out.insert(out.end(), part.begin(), part.end());
    }
    out[2] = u8(out.size());
    out[3] = u8(out.size() >> 8);
    out[4] = interfaces;
    return out;
}
Bytes interface(u8 number, u8 class_code, u8 subclass, u8 protocol, u8 alternate = 0) { return { 9, 4, number, alternate, 1, class_code, subclass, protocol, 0 }; }
Bytes hid_descriptor() { return { 9, 0x21, 0x11, 0x01, 0, 1, 0x22, 63, 0 }; }
Bytes endpoint(u8 address, u8 attributes, u16 packet, u8 interval) { return { 7, 5, address, attributes, u8(packet), u8(packet >> 8), interval }; }

rt::ErrorOr<rt::usb::BootKeyboard> find(Bytes const& bytes) { return rt::usb::find_boot_keyboard({ bytes.data(), bytes.size() }); }

TEST(UsbDescriptors, SetupPacketsAreLaidOutAsUsbSays)
{
    // GET_DESCRIPTOR(device, 18): 80 06 00 01 00 00 12 00.
    EXPECT_EQ(rt::usb::get_descriptor(rt::usb::device_descriptor, 18).bits(), 0x0012000001000680ull);
    EXPECT_TRUE(rt::usb::get_descriptor(2, 9).reads());
    EXPECT_EQ(rt::usb::set_configuration(1).bits(), 0x0000000000010900ull);
    EXPECT_FALSE(rt::usb::set_configuration(1).reads());
    // HID SET_PROTOCOL(boot) and SET_IDLE(0) to interface 2: class requests to an interface.
    EXPECT_EQ(rt::usb::set_boot_protocol(2).bits(), 0x0000000200000B21ull);
    EXPECT_EQ(rt::usb::set_idle(2).bits(), 0x0000000200000A21ull);
    // SET_REPORT(output, id 0) of one byte to interface 0: the LEDs.
    EXPECT_EQ(rt::usb::set_keyboard_leds(0).bits(), 0x0001000002000921ull);
    EXPECT_FALSE(rt::usb::set_keyboard_leds(0).reads());
}

TEST(UsbDescriptors, DeviceDescriptor)
{
    Bytes keyboard = { 18, 1, 0x00, 0x02, 0, 0, 0, 8, 0x6D, 0x04, 0x1C, 0xC3, 0, 1, 1, 2, 0, 1 };
    auto parsed = rt::usb::parse_device_descriptor({ keyboard.data(), keyboard.size() });
    ASSERT_FALSE(parsed.is_error()) << parsed.error().message().data();
    EXPECT_EQ(parsed.value().control_packet_size, 8);
    EXPECT_EQ(parsed.value().vendor, 0x046D);
    EXPECT_EQ(parsed.value().product, 0xC31C);
    auto first_eight = rt::usb::parse_device_descriptor({ keyboard.data(), 8 }); // what is read first
    ASSERT_FALSE(first_eight.is_error());
    EXPECT_EQ(first_eight.value().control_packet_size, 8);

    Bytes odd_packet = keyboard;
    odd_packet[7] = 12;
    EXPECT_TRUE(rt::usb::parse_device_descriptor({ odd_packet.data(), odd_packet.size() }).is_error());
    Bytes not_device = keyboard;
    not_device[1] = 2;
    EXPECT_TRUE(rt::usb::parse_device_descriptor({ not_device.data(), not_device.size() }).is_error());
    EXPECT_TRUE(rt::usb::parse_device_descriptor({ keyboard.data(), 7 }).is_error());
}

TEST(UsbDescriptors, FindsTheBootKeyboardAndItsInterruptEndpoint)
{
    auto bytes = configuration({ interface(0, 3, 1, 1), hid_descriptor(), endpoint(0x81, 3, 8, 10) });
    auto total = rt::usb::configuration_length({ bytes.data(), 9 });
    ASSERT_FALSE(total.is_error());
    EXPECT_EQ(total.value(), bytes.size());
    auto keyboard = find(bytes);
    ASSERT_FALSE(keyboard.is_error()) << keyboard.error().message().data();
    EXPECT_EQ(keyboard.value().configuration, 1);
    EXPECT_EQ(keyboard.value().interface, 0);
    EXPECT_EQ(keyboard.value().endpoint_address, 0x81);
    EXPECT_EQ(keyboard.value().packet_size, 8);
    EXPECT_EQ(keyboard.value().interval, 10);
}

TEST(UsbDescriptors, AKeyboardBesideOtherInterfaces)
{
    // A wireless receiver: a mouse first (protocol 2), then the keyboard, whose OUT endpoint
    // (the LEDs) comes before its IN one; configuration value 2.
    auto bytes = configuration({ interface(0, 3, 1, 2), hid_descriptor(), endpoint(0x81, 3, 4, 2), interface(1, 3, 1, 1), hid_descriptor(),
                                   endpoint(0x02, 3, 8, 10), endpoint(0x82, 3, 8, 10) },
        2);
    auto keyboard = find(bytes);
    ASSERT_FALSE(keyboard.is_error()) << keyboard.error().message().data();
    EXPECT_EQ(keyboard.value().configuration, 2);
    EXPECT_EQ(keyboard.value().interface, 1);
    EXPECT_EQ(keyboard.value().endpoint_address, 0x82);
}

TEST(UsbDescriptors, WhatIsNotABootKeyboard)
{
    auto storage = find(configuration({ interface(0, 8, 6, 0x50), endpoint(0x81, 2, 512, 0), endpoint(0x02, 2, 512, 0) }));
    ASSERT_TRUE(storage.is_error());
    EXPECT_STREQ(storage.error().message().data(), "interface class 8, no boot keyboard");
    EXPECT_TRUE(find(configuration({ interface(0, 3, 1, 2), endpoint(0x81, 3, 4, 2) })).is_error()); // a mouse
    EXPECT_TRUE(find(configuration({ interface(0, 3, 0, 0), endpoint(0x81, 3, 8, 2) })).is_error()); // HID, no boot protocol
    // The keyboard interface only as an alternate setting, or with no IN interrupt endpoint.
    EXPECT_TRUE(find(configuration({ interface(0, 3, 1, 1, 1), endpoint(0x81, 3, 8, 10) })).is_error());
    EXPECT_TRUE(find(configuration({ interface(0, 3, 1, 1), endpoint(0x81, 2, 8, 10), endpoint(0x01, 3, 8, 10) })).is_error());
    EXPECT_TRUE(find(configuration({ interface(0, 3, 1, 1), endpoint(0x81, 3, 0, 10) })).is_error()); // 0-byte packets
    EXPECT_TRUE(find(configuration({})).is_error());
}

TEST(UsbDescriptors, LengthsThatDoNotAddUpAreRefused)
{
    auto good = configuration({ interface(0, 3, 1, 1), endpoint(0x81, 3, 8, 10) });
    Bytes zero_length = good;
    zero_length[9] = 0; // the interface descriptor's length: would loop forever
    EXPECT_TRUE(find(zero_length).is_error());
    Bytes overrun = good;
    overrun[9 + 9] = 200; // the endpoint's length runs past the end
    EXPECT_TRUE(find(overrun).is_error());
    Bytes cut(good.begin(), good.end() - 3); // the endpoint cut short
    EXPECT_TRUE(find(cut).is_error());
    EXPECT_TRUE(rt::usb::configuration_length({ good.data(), 8 }).is_error());
    Bytes short_total = good;
    short_total[2] = 4;
    short_total[3] = 0;
    EXPECT_TRUE(rt::usb::configuration_length({ short_total.data(), 9 }).is_error());
}

TEST(UsbHubs, RequestsAndReplies)
{
    // GET_DESCRIPTOR(hub) A0 06 00 29 00 00 09 00; GET_STATUS(port 3) A3 00 00 00 03 00 04 00.
    EXPECT_EQ(rt::usb::get_hub_descriptor(9).bits(), 0x00090000290006A0ull);
    EXPECT_EQ(rt::usb::get_port_status(3).bits(), 0x00040003000000A3ull);
    EXPECT_TRUE(rt::usb::get_port_status(3).reads());
    // SET_FEATURE(PORT_RESET) and CLEAR_FEATURE(C_PORT_RESET) to port 2.
    EXPECT_EQ(rt::usb::set_port_feature(2, rt::usb::hub_port_reset).bits(), 0x0000000200040323ull);
    EXPECT_EQ(rt::usb::clear_port_feature(2, rt::usb::hub_port_reset_changed).bits(), 0x0000000200140123ull);

    // A 4-port high-speed hub: individual power switching, think time 8 FS bit times (1),
    // 100 ms from power on to power good.
    Bytes hub = { 9, 0x29, 4, 0x29, 0x00, 50, 100, 0, 0xFF };
    auto parsed = rt::usb::parse_hub_descriptor({ hub.data(), hub.size() });
    ASSERT_FALSE(parsed.is_error()) << parsed.error().message().data();
    EXPECT_EQ(parsed.value().ports, 4);
    EXPECT_EQ(parsed.value().power_on_ms, 100u);
    EXPECT_EQ(parsed.value().think_time, 1);
    Bytes no_ports = hub;
    no_ports[2] = 0;
    EXPECT_TRUE(rt::usb::parse_hub_descriptor({ no_ports.data(), no_ports.size() }).is_error());
    Bytes wrong_type = hub;
    wrong_type[1] = 0x2A; // a SuperSpeed hub's descriptor
    EXPECT_TRUE(rt::usb::parse_hub_descriptor({ wrong_type.data(), wrong_type.size() }).is_error());
    EXPECT_TRUE(rt::usb::parse_hub_descriptor({ hub.data(), 6 }).is_error());

    // Connected, enabled, low speed; reset just ended.
    u8 status_bytes[4] = { 0x03, 0x03, 0x10, 0x00 };
    auto status = rt::usb::parse_port_status(status_bytes);
    EXPECT_TRUE(status.connected());
    EXPECT_TRUE(status.enabled());
    EXPECT_TRUE(status.low_speed());
    EXPECT_FALSE(status.high_speed());
    EXPECT_TRUE(status.reset_changed());
    u8 high_speed_bytes[4] = { 0x01, 0x05, 0x00, 0x00 };
    EXPECT_TRUE(rt::usb::parse_port_status(high_speed_bytes).high_speed());
    EXPECT_FALSE(rt::usb::parse_port_status(high_speed_bytes).enabled());
}

// A boot report: the modifier byte, a reserved byte, up to six keys.
// The reports 10 ms apart, what they type read after each: too soon for any key to repeat.
std::string typed(std::vector<Bytes> const& reports)
{
    rt::BootKeyboardReports keyboard;
    std::string out;
    u64 now = 1000;
    for (auto const& report : reports) {
        keyboard.take(report.data(), report.size(), now);
        for (int c = keyboard.next(now); c >= 0; c = keyboard.next(now))
            out += char(c);
        now += 10;
    }
    return out;
}
Bytes keys(std::vector<u8> held, u8 modifiers = 0)
{
    Bytes report = { modifiers, 0, 0, 0, 0, 0, 0, 0 };
    for (size_t i = 0; i < held.size(); ++i)
        report[2 + i] = held[i];
    return report;
}
constexpr u8 h = 0x0B, i_ = 0x0C, one = 0x1E, enter = 0x28, backspace = 0x2A, space = 0x2C, caps = 0x39, slash = 0x38;
constexpr u8 left_shift = 0x02, right_shift = 0x20;

TEST(BootKeyboardReports, KeysBecomeCharactersWhenTheyGoDown)
{
    EXPECT_EQ(typed({ keys({ h }), keys({}), keys({ i_ }), keys({}), keys({ enter }), keys({}) }), "hi\n");
    // A key held through several reports (a keyboard that repeats them) counts once; pressed
    // again after a release, twice.
    EXPECT_EQ(typed({ keys({ h }), keys({ h }), keys({ h }), keys({}), keys({ h }) }), "hh");
    // Rolling from one key to the next: h still held when i goes down.
    EXPECT_EQ(typed({ keys({ h }), keys({ h, i_ }), keys({ i_ }), keys({}) }), "hi");
    EXPECT_EQ(typed({ keys({ h, i_ }) }), "hi"); // two in one report: in the report's order
}

TEST(BootKeyboardReports, ShiftCapsLockAndTheOtherKeys)
{
    EXPECT_EQ(typed({ keys({ h }, left_shift), keys({}), keys({ one }, right_shift), keys({}), keys({ slash }, left_shift) }), "H!?");
    EXPECT_EQ(typed({ keys({ caps }), keys({}), keys({ h }), keys({}), keys({ h }, left_shift), keys({}), keys({ one }) }), "Hh1");
    EXPECT_EQ(typed({ keys({ caps }), keys({}), keys({ caps }), keys({}), keys({ h }) }), "h");
    EXPECT_EQ(typed({ keys({ space }), keys({ backspace }), keys({ 0x59 }), keys({ 0x63 }), keys({ 0x58 }) }), " \b1.\n"); // keypad 1 . enter
    EXPECT_EQ(typed({ keys({ 0x29 }), keys({ 0x2B }), keys({ 0x31 }), keys({ 0x32 }), keys({ 0x35 }, left_shift) }), "\x1b\t\\\\~");
    EXPECT_EQ(typed({ keys({ 0x3A }), keys({ 0x49 }), keys({ 0xE0 }) }), ""); // F1, Insert, a modifier's usage: nothing
}

TEST(BootKeyboardReports, CursorKeysAndControlLetters)
{
    rt::BootKeyboardReports keyboard;
    std::vector<int> got;
    u64 now = 1000;
    // Right, Left, Up, Down, Home, End, Delete; then Ctrl+C (left Ctrl) and Ctrl+a (right
    // Ctrl, caps lock on: still 1).
    std::vector<Bytes> reports = { keys({ 0x4F }), keys({ 0x50 }), keys({ 0x52 }), keys({ 0x51 }), keys({ 0x4A }), keys({ 0x4D }), keys({ 0x4C }),
        keys({ 0x06 }, 0x01), keys({}), keys({ caps }), keys({}), keys({ 0x04 }, 0x10) };
    for (auto const& report : reports) {
        keyboard.take(report.data(), report.size(), now);
        for (int k = keyboard.next(now); k >= 0; k = keyboard.next(now))
            got.push_back(k);
        now += 10;
    }
    std::vector<int> expected = { rt::key::right, rt::key::left, rt::key::up, rt::key::down, rt::key::home, rt::key::end,
        rt::key::forward_delete, rt::key::interrupt, rt::key::control('a') };
    EXPECT_EQ(got, expected);
}

TEST(BootKeyboardReports, TheLedsFollowCapsLock)
{
    rt::BootKeyboardReports keyboard;
    EXPECT_EQ(keyboard.leds(), rt::BootKeyboardReports::num_lock_led);
    Bytes caps_down = keys({ caps }), up = keys({});
    keyboard.take(caps_down.data(), caps_down.size(), 0);
    EXPECT_EQ(keyboard.leds(), rt::BootKeyboardReports::num_lock_led | rt::BootKeyboardReports::caps_lock_led);
    keyboard.take(caps_down.data(), caps_down.size(), 10); // still held: no second toggle
    keyboard.take(up.data(), up.size(), 20);
    EXPECT_EQ(keyboard.leds(), rt::BootKeyboardReports::num_lock_led | rt::BootKeyboardReports::caps_lock_led);
    keyboard.take(caps_down.data(), caps_down.size(), 30);
    EXPECT_EQ(keyboard.leds(), rt::BootKeyboardReports::num_lock_led);
}

TEST(BootKeyboardReports, ReportsThatSayNothing)
{
    // Too many keys at once: every slot says "roll-over error"; the keys held before stay held.
    Bytes roll_over = { 0, 0, 1, 1, 1, 1, 1, 1 };
    EXPECT_EQ(typed({ keys({ h }), roll_over, keys({ h, i_ }) }), "hi");
    Bytes short_report = { 0, 0, h };
    EXPECT_EQ(typed({ short_report }), "");
}

TEST(BootKeyboardReports, KeysTypedFasterThanReadWaitInOrder)
{
    rt::BootKeyboardReports keyboard;
    std::string out;
    for (int round = 0; round < 20; ++round) { // 20 keys before the first is read: 16 are kept
        Bytes down = keys({ u8(0x04 + round) }), up = keys({});
        keyboard.take(down.data(), down.size(), 0);
        keyboard.take(up.data(), up.size(), 0);
    }
    for (int c = keyboard.next(0); c >= 0; c = keyboard.next(0))
        out += char(c);
    EXPECT_EQ(out, "abcdefghijklmnop");
}

// What `keyboard` types when read every millisecond from `from` to `to`.
std::string read_between(rt::BootKeyboardReports& keyboard, u64 from, u64 to)
{
    std::string out;
    for (u64 now = from; now < to; ++now)
        for (int c = keyboard.next(now); c >= 0; c = keyboard.next(now))
            out += char(c);
    return out;
}

TEST(BootKeyboardReports, TheLastKeyPressedRepeatsWhileHeld)
{
    rt::BootKeyboardReports keyboard;
    Bytes down = keys({ backspace }), up = keys({});
    keyboard.take(down.data(), down.size(), 0);
    // Once at once, again after half a second, then every 33 ms: at 500, 533, ..., 995.
    EXPECT_EQ(read_between(keyboard, 0, 1000), std::string(1 + 16, '\b'));
    keyboard.take(up.data(), up.size(), 1000);
    EXPECT_EQ(read_between(keyboard, 1000, 3000), "");

    // h held, then i pressed beside it: i repeats; i let go while h is still held: nothing
    // repeats (as on a PS/2 keyboard, only the last key pressed does).
    Bytes h_down = keys({ h }), both = keys({ h, i_ });
    keyboard.take(h_down.data(), h_down.size(), 5000);
    keyboard.take(both.data(), both.size(), 5100);
    EXPECT_EQ(read_between(keyboard, 5100, 5610), "hii"); // i at 5100, again at 5600
    keyboard.take(h_down.data(), h_down.size(), 5610);
    EXPECT_EQ(read_between(keyboard, 5610, 7000), "");

    // A reader that looks only now and then gets one repeat each time, not the backlog.
    keyboard.take(down.data(), down.size(), 10000);
    EXPECT_EQ(read_between(keyboard, 10000, 10001), "\b");
    EXPECT_EQ(read_between(keyboard, 20000, 20001), "\b");
    EXPECT_EQ(read_between(keyboard, 20001, 20002), "");
    // Unplugged with the key down: it does not repeat for ever.
    keyboard.release_all();
    EXPECT_EQ(read_between(keyboard, 30000, 31000), "");
}

}
