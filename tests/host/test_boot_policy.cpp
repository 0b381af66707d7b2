// What the boot sequence decides from the boot information and the command line
// (src/boot/): the screen, the heap's memory, cpus=, end= and fault=.
#include "console_capture.h"
#include <gtest/gtest.h>
#include <rt/boot_options.h>
#include <rt/fault_injection.h>
#include <rt/heap_setup.h>
#include <rt/screen_choice.h>
#include <rt/work_pool.h>

namespace {

using testing_support::ConsoleCapture;
using testing_support::str;
using Kind = rt::boot::ScreenChoice::Kind;

rt::multiboot2::BootInfo boot_info_with_framebuffer(u64 address, u32 width, u32 height, u32 pitch, u8 bpp,
    rt::multiboot2::FramebufferType type = rt::multiboot2::FramebufferType::Rgb)
{
    rt::multiboot2::BootInfo info;
    info.framebuffer.present = true;
    info.framebuffer.address = address;
    info.framebuffer.width = width;
    info.framebuffer.height = height;
    info.framebuffer.pitch = pitch;
    info.framebuffer.bpp = bpp;
    info.framebuffer.type = type;
    return info;
}

TEST(ScreenChoice, WithoutATagBiosHasVgaTextAndUefiNothing)
{
    rt::multiboot2::BootInfo info;
    EXPECT_EQ(rt::boot::choose_screen(info).kind, Kind::VgaText);
    info.efi_boot = true;
    EXPECT_EQ(rt::boot::choose_screen(info).kind, Kind::SerialOnly);
}

TEST(ScreenChoice, EgaTextFromTheTag)
{
    auto info = boot_info_with_framebuffer(0xB8000, 80, 25, 160, 16, rt::multiboot2::FramebufferType::EgaText);
    EXPECT_EQ(rt::boot::choose_screen(info).kind, Kind::EgaText);
}

TEST(ScreenChoice, PixelsWithTheTagsFormat)
{
    auto info = boot_info_with_framebuffer(0xFD000000, 1024, 768, 4096, 32);
    info.framebuffer.red_position = 16;
    info.framebuffer.red_size = 8;
    info.framebuffer.green_position = 8;
    info.framebuffer.green_size = 8;
    info.framebuffer.blue_position = 0;
    info.framebuffer.blue_size = 8;
    auto choice = rt::boot::choose_screen(info);
    ASSERT_EQ(choice.kind, Kind::Framebuffer);
    EXPECT_EQ(choice.format.bytes_per_pixel, 4);
    EXPECT_EQ(choice.format.red_position, 16);
    EXPECT_EQ(choice.format.green_position, 8);
    EXPECT_EQ(choice.format.blue_size, 8);
}

TEST(ScreenChoice, PixelsAboveFourGibAreChosenForThePlatformToShow)
{
    auto below = boot_info_with_framebuffer(0xFD000000, 1024, 768, 4096, 32);
    EXPECT_FALSE(rt::boot::choose_screen(below).above_4gib());
    // The last row ends past 4 GiB.
    auto straddling = boot_info_with_framebuffer(0xFFFF0000, 1024, 768, 4096, 32);
    auto choice = rt::boot::choose_screen(straddling);
    EXPECT_EQ(choice.kind, Kind::Framebuffer);
    EXPECT_TRUE(choice.above_4gib());
    auto high = boot_info_with_framebuffer(0x4000000000, 1920, 1080, 7680, 32);
    choice = rt::boot::choose_screen(high);
    EXPECT_EQ(choice.kind, Kind::Framebuffer);
    EXPECT_EQ(choice.address, 0x4000000000u);
    EXPECT_EQ(choice.bytes, 7680u * 1080);
    EXPECT_TRUE(choice.above_4gib());
}

TEST(ScreenChoice, UnusableFramebuffersLeaveSerialOnlyAndSayWhy)
{
    ConsoleCapture::the().take();
    auto high_text = boot_info_with_framebuffer(0x1000B8000, 80, 25, 160, 16, rt::multiboot2::FramebufferType::EgaText);
    EXPECT_EQ(rt::boot::choose_screen(high_text).kind, Kind::SerialOnly);
    EXPECT_EQ(ConsoleCapture::the().take(), "[screen] text mode at 0x1000b8000 is above 4 GiB: serial only\n");
    auto wrapping = boot_info_with_framebuffer(0xFFFFFFFFFFFF0000, 1920, 1080, 15871, 32);
    EXPECT_EQ(rt::boot::choose_screen(wrapping).kind, Kind::SerialOnly);
    EXPECT_EQ(ConsoleCapture::the().take(),
        "[screen] framebuffer at 0xffffffffffff0000 (17140680 bytes) runs past the end of the address space: serial only\n");
    auto short_pitch = boot_info_with_framebuffer(0xFD000000, 1024, 768, 1024, 32); // a row needs 4096
    EXPECT_EQ(rt::boot::choose_screen(short_pitch).kind, Kind::SerialOnly);
    EXPECT_EQ(ConsoleCapture::the().take(), "[screen] framebuffer 1024x768x32 with pitch 1024 cannot hold a line of text: serial only\n");
    auto odd_pitch = boot_info_with_framebuffer(0xFD000000, 1024, 768, 4099, 32); // rows off 4-byte alignment
    EXPECT_EQ(rt::boot::choose_screen(odd_pitch).kind, Kind::SerialOnly);
    ConsoleCapture::the().take();
    auto tiny = boot_info_with_framebuffer(0xFD000000, 4, 768, 4096, 32);
    EXPECT_EQ(rt::boot::choose_screen(tiny).kind, Kind::SerialOnly);
    ConsoleCapture::the().take();
    auto indexed = boot_info_with_framebuffer(0xFD000000, 640, 480, 640, 8);
    EXPECT_EQ(rt::boot::choose_screen(indexed).kind, Kind::SerialOnly);
    EXPECT_EQ(ConsoleCapture::the().take(), "[screen] 8-bit framebuffer not supported: serial only\n");
}

TEST(HeapPlan, AvailableEntriesAreUsableAndTheBootDataReserved)
{
    rt::multiboot2::BootInfo info;
    info.memory_map[0] = { 0, 0x9FC00, u32(rt::multiboot2::MemoryType::Available) };
    info.memory_map[1] = { 0xF0000, 0x10000, u32(rt::multiboot2::MemoryType::Reserved) };
    info.memory_map[2] = { 0x100000, 0x7EE0000, u32(rt::multiboot2::MemoryType::Available) };
    info.memory_map[3] = { 0x7FE0000, 0x20000, u32(rt::multiboot2::MemoryType::AcpiReclaimable) };
    info.memory_entry_count = 4;
    info.modules[0] = { 0x200000, 0x240000, "model" };
    info.modules[1] = { 0x240000, 0x250000, "tokenizer" };
    info.module_count = 2;
    rt::MemoryRange kernel { 0x100000, 0x80000 };
    rt::MemoryRange boot_information { 0x1F0000, 0x2000 };
    auto layout = rt::boot::plan_heap(info, kernel, boot_information);
    ASSERT_EQ(layout.usable_count, 2u);
    EXPECT_EQ(layout.usable[0].base, 0u);
    EXPECT_EQ(layout.usable[0].length, 0x9FC00u);
    EXPECT_EQ(layout.usable[1].base, 0x100000u);
    EXPECT_EQ(layout.usable[1].length, 0x7EE0000u);
    ASSERT_EQ(layout.reserved_count, 5u);
    EXPECT_EQ(layout.reserved[0].base, 0u);
    EXPECT_EQ(layout.reserved[0].length, 0x100000u); // the BIOS area
    EXPECT_EQ(layout.reserved[1].base, kernel.base);
    EXPECT_EQ(layout.reserved[1].length, kernel.length);
    EXPECT_EQ(layout.reserved[2].base, boot_information.base);
    EXPECT_EQ(layout.reserved[2].length, boot_information.length);
    EXPECT_EQ(layout.reserved[3].base, 0x200000u);
    EXPECT_EQ(layout.reserved[3].length, 0x40000u);
    EXPECT_EQ(layout.reserved[4].base, 0x240000u);
    EXPECT_EQ(layout.reserved[4].length, 0x10000u);
}

rt::CommandLine parsed(char const* text)
{
    rt::CommandLine line;
    EXPECT_FALSE(rt::CommandLine::parse(text, line).is_error());
    return line;
}

TEST(BootOptions, CpusDefaultsToEveryWorkerAndIsChecked)
{
    EXPECT_EQ(rt::boot::wanted_processor_count(parsed("")).value(), rt::WorkPool::max_workers);
    EXPECT_EQ(rt::boot::wanted_processor_count(parsed("cpus=2")).value(), 2u);
    EXPECT_TRUE(rt::boot::wanted_processor_count(parsed("cpus=0")).is_error());
    EXPECT_TRUE(rt::boot::wanted_processor_count(parsed("cpus=many")).is_error());
}

TEST(BootOptions, EndIsHaltUnlessPoweroff)
{
    EXPECT_FALSE(rt::boot::power_off_at_end(parsed("")).value());
    EXPECT_FALSE(rt::boot::power_off_at_end(parsed("end=halt")).value());
    EXPECT_TRUE(rt::boot::power_off_at_end(parsed("end=poweroff")).value());
    auto bad = rt::boot::power_off_at_end(parsed("end=reboot"));
    ASSERT_TRUE(bad.is_error());
    EXPECT_NE(str(bad.error().message()).find("reboot"), std::string::npos);
}

TEST(BootOptions, ScreenTestIsNoneUnlessAbove4g)
{
    EXPECT_FALSE(rt::boot::screen_test_above_4gib(parsed("")).value());
    EXPECT_FALSE(rt::boot::screen_test_above_4gib(parsed("screen_test=none")).value());
    EXPECT_TRUE(rt::boot::screen_test_above_4gib(parsed("screen_test=above-4g")).value());
    EXPECT_TRUE(rt::boot::screen_test_above_4gib(parsed("screen_test=high")).is_error());
}

TEST(BootOptions, X2apicIsAutoUnlessOn)
{
    EXPECT_FALSE(rt::boot::x2apic_wanted(parsed("")).value());
    EXPECT_FALSE(rt::boot::x2apic_wanted(parsed("x2apic=auto")).value());
    EXPECT_TRUE(rt::boot::x2apic_wanted(parsed("x2apic=on")).value());
    auto bad = rt::boot::x2apic_wanted(parsed("x2apic=yes"));
    ASSERT_TRUE(bad.is_error());
    EXPECT_NE(str(bad.error().message()).find("auto, on"), std::string::npos);
}

TEST(BootOptions, UsbKeyboardsAreReadWhereKeysAre)
{
    EXPECT_FALSE(rt::boot::usb_keyboards_wanted(parsed("")).value()); // mode=generate reads no keys
    EXPECT_FALSE(rt::boot::usb_keyboards_wanted(parsed("mode=bench")).value());
    EXPECT_TRUE(rt::boot::usb_keyboards_wanted(parsed("mode=interactive")).value());
    EXPECT_TRUE(rt::boot::usb_keyboards_wanted(parsed("mode=chat usb=auto")).value());
    EXPECT_FALSE(rt::boot::usb_keyboards_wanted(parsed("mode=chat usb=off")).value());
    EXPECT_TRUE(rt::boot::usb_keyboards_wanted(parsed("usb=on")).value());
    auto bad = rt::boot::usb_keyboards_wanted(parsed("usb=yes"));
    ASSERT_TRUE(bad.is_error());
    EXPECT_NE(str(bad.error().message()).find("auto, on, off"), std::string::npos);
}

TEST(BootOptions, KeyboardLayoutByName)
{
    EXPECT_EQ(rt::boot::keyboard_layout(parsed("")).value()->name, rt::StringView("us"));
    EXPECT_EQ(rt::boot::keyboard_layout(parsed("keymap=de")).value()->name, rt::StringView("de"));
    EXPECT_EQ(rt::boot::keyboard_layout(parsed("keymap=fr")).value()->name, rt::StringView("fr"));
    auto bad = rt::boot::keyboard_layout(parsed("keymap=azerty"));
    ASSERT_TRUE(bad.is_error());
    EXPECT_NE(str(bad.error().message()).find("us, uk, de, fr"), std::string::npos);
}

std::string fired;
rt::boot::FaultTriggers const recording_triggers {
    [] { fired += "divide "; },
    [] { fired += "opcode "; },
    [] { fired += "protection "; },
};

TEST(FaultInjection, EachKindFiresItsOwnTrigger)
{
    for (auto [kind, trigger] : { std::pair { "divide", "divide " }, { "opcode", "opcode " }, { "protection", "protection " } }) {
        fired.clear();
        ConsoleCapture::the().take();
        auto line = parsed((std::string("fault=") + kind).c_str());
        EXPECT_FALSE(rt::boot::trigger_requested_fault(line, recording_triggers).is_error());
        EXPECT_EQ(fired, trigger);
        EXPECT_EQ(ConsoleCapture::the().take(), std::string("[fault] triggering a deliberate '") + kind + "' fault as the command line asked\n");
    }
}

TEST(FaultInjection, NothingAskedNothingFired)
{
    fired.clear();
    EXPECT_FALSE(rt::boot::trigger_requested_fault(parsed("steps=3"), recording_triggers).is_error());
    EXPECT_EQ(fired, "");
}

TEST(FaultInjection, AnUnknownKindIsRefusedBeforeAnythingFires)
{
    fired.clear();
    ConsoleCapture::the().take();
    auto result = rt::boot::trigger_requested_fault(parsed("fault=pagefault"), recording_triggers);
    ASSERT_TRUE(result.is_error());
    EXPECT_NE(str(result.error().message()).find("pagefault"), std::string::npos);
    EXPECT_EQ(fired, "");
    EXPECT_EQ(ConsoleCapture::the().take(), "");
}

TEST(FaultInjection, ApOpcodeNeedsASecondCore)
{
    fired.clear();
    ConsoleCapture::the().take();
    rt::WorkPool::the().set_worker_count(1);
    EXPECT_FALSE(rt::boot::trigger_requested_fault(parsed("fault=ap-opcode"), recording_triggers).is_error());
    EXPECT_EQ(fired, "");
    EXPECT_EQ(ConsoleCapture::the().take(),
        "[fault] triggering a deliberate 'ap-opcode' fault as the command line asked\n"
        "[fault] only one core is working: no application processor to fault on\n");
}

}
