// The kernel's whole command line: the menu entry's, then QEMU fw_cfg's text appended
// (rt/boot_command_line.h). Lines that do not fit are refused with their lengths.
#include "console_capture.h"
#include <cstring>
#include <gtest/gtest.h>
#include <rt/boot_command_line.h>
#include <string>

namespace {

using testing_support::ConsoleCapture;
using testing_support::str;

// What the fake firmware device holds: absent (no device or no file) or some text.
bool extra_present;
std::string extra_text;
size_t last_capacity;

i64 read_extra(char* out, size_t capacity)
{
    last_capacity = capacity;
    if (!extra_present)
        return -1;
    if (extra_text.size() <= capacity)
        std::memcpy(out, extra_text.data(), extra_text.size());
    return i64(extra_text.size());
}

void set_extra(bool present, std::string text = {})
{
    extra_present = present;
    extra_text = std::move(text);
    ConsoleCapture::the().take();
}

TEST(BootCommandLine, MenuOnlyWhenThereIsNoExtraText)
{
    set_extra(false);
    char buffer[64];
    auto line = rt::boot::assemble_command_line("steps=5 temp=0", read_extra, buffer);
    ASSERT_FALSE(line.is_error());
    EXPECT_EQ(str(line.value()), "steps=5 temp=0");
    EXPECT_EQ(line.value().data(), buffer);
    EXPECT_EQ(buffer[line.value().length()], 0);
    EXPECT_EQ(last_capacity, 63u - 14u - 1u);
    EXPECT_EQ(ConsoleCapture::the().take(), "");
}

TEST(BootCommandLine, ExtraTextIsAppendedAfterOneSpaceAndNamed)
{
    set_extra(true, "steps=9");
    char buffer[64];
    auto line = rt::boot::assemble_command_line("steps=5", read_extra, buffer);
    ASSERT_FALSE(line.is_error());
    EXPECT_EQ(str(line.value()), "steps=5 steps=9");
    EXPECT_EQ(buffer[line.value().length()], 0);
    EXPECT_EQ(ConsoleCapture::the().take(), "[boot] appended from QEMU fw_cfg (7 bytes): steps=9\n");
}

TEST(BootCommandLine, ExtraTextAloneHasNoLeadingSpace)
{
    set_extra(true, "mode=chat");
    char buffer[64];
    auto line = rt::boot::assemble_command_line("", read_extra, buffer);
    ASSERT_FALSE(line.is_error());
    EXPECT_EQ(str(line.value()), "mode=chat");
    EXPECT_EQ(last_capacity, 63u);
}

TEST(BootCommandLine, AnEmptyExtraFileAddsNothing)
{
    set_extra(true, "");
    char buffer[16];
    auto line = rt::boot::assemble_command_line("a=1", read_extra, buffer);
    ASSERT_FALSE(line.is_error());
    EXPECT_EQ(str(line.value()), "a=1");
    EXPECT_EQ(ConsoleCapture::the().take(), "");
}

TEST(BootCommandLine, ALineThatFillsTheBufferExactlyIsKept)
{
    // 15 usable bytes: "a=1" + ' ' + 11 bytes of extra text.
    set_extra(true, "b=123456789");
    char buffer[16];
    auto line = rt::boot::assemble_command_line("a=1", read_extra, buffer);
    ASSERT_FALSE(line.is_error());
    EXPECT_EQ(str(line.value()), "a=1 b=123456789");
    EXPECT_EQ(buffer[15], 0);
}

TEST(BootCommandLine, AMenuLineTooLongIsRefusedWithItsLength)
{
    set_extra(false);
    char buffer[16];
    std::string menu(16, 'x');
    auto line = rt::boot::assemble_command_line({ menu.data(), menu.size() }, read_extra, buffer);
    ASSERT_TRUE(line.is_error());
    EXPECT_EQ(str(line.error().message()), "command line: the menu entry's is 16 bytes; BareFlow takes at most 15");
}

TEST(BootCommandLine, ExtraTextThatDoesNotFitIsRefusedNotCut)
{
    set_extra(true, "b=1234567890");
    char buffer[16];
    auto line = rt::boot::assemble_command_line("a=1", read_extra, buffer);
    ASSERT_TRUE(line.is_error());
    EXPECT_EQ(str(line.error().message()),
        "command line: 3 bytes from the menu entry and 12 from QEMU fw_cfg make 16; BareFlow takes at most 15");
    EXPECT_EQ(ConsoleCapture::the().take(), "");
}

TEST(BootCommandLine, AMenuLineThatFillsTheBufferLeavesNoRoomNotNegativeRoom)
{
    set_extra(true, "steps=1");
    char buffer[32];
    std::string menu(31, 'a'); // exactly the limit: no room for a space and more text
    auto line = rt::boot::assemble_command_line(menu.c_str(), read_extra, buffer);
    EXPECT_EQ(last_capacity, 0u);
    ASSERT_TRUE(line.is_error());
    EXPECT_NE(str(line.error().message()).find("make 39"), std::string::npos) << str(line.error().message());
    set_extra(false);
    auto alone = rt::boot::assemble_command_line(menu.c_str(), read_extra, buffer);
    ASSERT_FALSE(alone.is_error());
    EXPECT_EQ(alone.value().length(), 31u);
}

}
