// Where the paging window onto memory above 4 GiB goes (src/boot/address_window.cpp): in
// memory the memory map leaves unused, below the chipset's fixed devices, as high as it fits.
#include <gtest/gtest.h>
#include <rt/address_window.h>
#include <initializer_list>

namespace {

constexpr u64 mib = 1ull << 20, gib = 1ull << 30;
constexpr u32 available = u32(rt::multiboot2::MemoryType::Available), reserved = u32(rt::multiboot2::MemoryType::Reserved);

rt::multiboot2::BootInfo memory_map(std::initializer_list<rt::multiboot2::MemoryMapEntry> entries)
{
    rt::multiboot2::BootInfo info;
    for (auto const& entry : entries)
        info.memory_map[info.memory_entry_count++] = entry;
    return info;
}

// A PC's map: RAM up to 2 GiB, ACPI and firmware ranges, the PCI configuration space at
// 0xE0000000, the flash at the top, RAM above 4 GiB.
rt::multiboot2::BootInfo pc_memory_map()
{
    return memory_map({ { 0, 640 * 1024, available }, { mib, 2 * gib - mib, available }, { 2 * gib, 64 * mib, reserved },
        { 0xE0000000, 256 * mib, reserved }, { 0xFF000000, 16 * mib, reserved }, { 4 * gib, 4 * gib, available } });
}

}

TEST(AddressWindow, GoesHighestBelowTheFixedDevicesWhereTheMapListsNothing)
{
    // An 8 MiB framebuffer (1920x1080x4) at 0x4000000000, as recent Intel laptops have it.
    auto window = rt::boot::plan_address_window(pc_memory_map(), 0x4000000000, 1920 * 1080 * 4, 39);
    ASSERT_FALSE(window.is_error()) << window.error().message().data();
    EXPECT_EQ(window.value().physical_base, 0x4000000000u);
    EXPECT_EQ(window.value().pages, 4u); // 7.9 MiB in 2 MiB pages
    // 0xF0000000-0xFEBFFFFF is not listed: the window ends where the fixed devices begin.
    EXPECT_EQ(window.value().virtual_base, 0xFEC00000u - 8 * mib);
    EXPECT_EQ(window.value().address_of(0x4000000000), reinterpret_cast<u8*>(uptr(0xFE400000)));
}

TEST(AddressWindow, AFramebufferOffThePageBoundaryTakesOneMorePage)
{
    auto window = rt::boot::plan_address_window(pc_memory_map(), 0x4000100000, 4 * mib, 39);
    ASSERT_FALSE(window.is_error());
    EXPECT_EQ(window.value().physical_base, 0x4000000000u);
    EXPECT_EQ(window.value().pages, 3u); // 1 MiB into the first page, 1 MiB into the third
    EXPECT_EQ(window.value().address_of(0x4000100000), reinterpret_cast<u8*>(uptr(window.value().virtual_base + mib)));
}

TEST(AddressWindow, SkipsEveryListedRangeItWouldOverlap)
{
    // Listed: everything from 0xF0000000 up, and 0xC0000000-0xDFFFFFFF; free: 0xE0000000-0xEFFFFFFF.
    auto info = memory_map({ { mib, gib, available }, { 0xC0000000, 512 * mib, reserved }, { 0xF0000000, 256 * mib, reserved } });
    auto window = rt::boot::plan_address_window(info, 5 * gib, 16 * mib, 36);
    ASSERT_FALSE(window.is_error());
    EXPECT_EQ(window.value().virtual_base, 0xF0000000u - 16 * mib);
}

TEST(AddressWindow, KeepsClearOfWhatItIsToldToAvoid)
{
    // A second window (a device's registers) beside a framebuffer's window, and clear of a
    // device the kernel reaches where it is (0xF7600000): the next free space below both.
    auto info = memory_map({ { mib, gib, available }, { 0xF8000000, 0xFEC00000 - 0xF8000000, reserved } });
    auto first = rt::boot::plan_address_window(info, 0x4000000000, 8 * mib, 46);
    ASSERT_FALSE(first.is_error()) << first.error().message().data();
    EXPECT_EQ(first.value().virtual_base, 0xF7800000u);
    rt::MemoryRange avoid[] = { { first.value().virtual_base, 8 * mib }, { 0xF7600000, 64 * 1024 } };
    auto second = rt::boot::plan_address_window(info, 0xE000010000, 64 * 1024, 46, avoid);
    ASSERT_FALSE(second.is_error()) << second.error().message().data();
    EXPECT_EQ(second.value().virtual_base, 0xF7400000u);
    EXPECT_EQ(second.value().pages, 1u);
    EXPECT_EQ(second.value().address_of(0xE000010000), reinterpret_cast<u8*>(uptr(0xF7410000)));
}

TEST(AddressWindow, NoRoomOrNoSuchAddressIsAnError)
{
    // RAM and reserved ranges fill everything from 16 MiB to the fixed devices.
    auto full = memory_map({ { 0, 0xD0000000, available }, { 0xD0000000, 0x30000000, reserved } });
    auto none = rt::boot::plan_address_window(full, 0x4000000000, 8 * mib, 39);
    ASSERT_TRUE(none.is_error());
    EXPECT_STREQ(none.error().message().data(), "no 8 MiB between 16 MiB and 0xfec00000 that the memory map leaves unused");
    // Beyond the CPU's physical addresses: 36 bits end at 64 GiB.
    auto beyond = rt::boot::plan_address_window(pc_memory_map(), 0x4000000000, 8 * mib, 36);
    ASSERT_TRUE(beyond.is_error());
    EXPECT_STREQ(beyond.error().message().data(), "0x4000000000-0x40007fffff lies beyond the CPU's 36-bit physical addresses");
    EXPECT_TRUE(rt::boot::plan_address_window(pc_memory_map(), 0x4000000000, 0, 39).is_error());
    EXPECT_TRUE(rt::boot::plan_address_window(pc_memory_map(), 0x4000000000, 512 * mib, 39).is_error());
    // The address plus its size wraps past 2^64.
    EXPECT_TRUE(rt::boot::plan_address_window(pc_memory_map(), ~0ull - mib, 8 * mib, 52).is_error());
}

TEST(AddressWindow, NotWhereAMapCutShortMayHaveLeftSomethingOut)
{
    auto info = pc_memory_map();
    info.memory_entries_left_out = 3;
    auto window = rt::boot::plan_address_window(info, 0x4000000000, 8 * mib, 39);
    ASSERT_TRUE(window.is_error());
    EXPECT_STREQ(window.error().message().data(), "the memory map is not whole (3 entries left out)");
}

TEST(AddressWindow, AFramebufferInADevicesMemoryIsItsOwnWindow)
{
    // QEMU's VGA at 0xC0000000 (1024x768x4): unlisted, so its pages become write-combining.
    auto window = rt::boot::plan_identity_window(pc_memory_map(), 0xC0000000, 3 * mib);
    ASSERT_FALSE(window.is_error()) << window.error().message().data();
    EXPECT_EQ(window.value().virtual_base, 0xC0000000u);
    EXPECT_EQ(window.value().physical_base, 0xC0000000u);
    EXPECT_EQ(window.value().pages, 2u);
    EXPECT_EQ(window.value().address_of(0xC0100000), reinterpret_cast<u8*>(uptr(0xC0100000)));
}

TEST(AddressWindow, NoIdentityWindowWhereTheFramebuffersPagesHoldListedMemory)
{
    // QEMU's ramfb: in reserved RAM, with usable RAM in the same 2 MiB page.
    auto info = memory_map({ { mib, 0x7E400000, available }, { 0x7E500000, 4 * mib, reserved }, { 0x7E900000, 16 * mib, available } });
    auto window = rt::boot::plan_identity_window(info, 0x7E500000, 3 * mib);
    ASSERT_TRUE(window.is_error());
    EXPECT_STREQ(window.error().message().data(), "its pages share 0x100000-0x7e4fffff with memory the map lists");
    // Below 16 MiB, or reaching into the fixed devices: not a framebuffer to page.
    EXPECT_TRUE(rt::boot::plan_identity_window(pc_memory_map(), 0xA0000, 64 * 1024).is_error());
    EXPECT_TRUE(rt::boot::plan_identity_window(pc_memory_map(), 0xFEB00000, 3 * mib).is_error());
    EXPECT_TRUE(rt::boot::plan_identity_window(pc_memory_map(), ~0ull - mib, 16 * mib).is_error()); // its end wraps
    auto cut = pc_memory_map();
    cut.memory_entries_left_out = 1;
    EXPECT_TRUE(rt::boot::plan_identity_window(cut, 0xC0000000, 3 * mib).is_error());
}

TEST(AddressWindow, RamAboveFourGibIsTheFirstUsableRangeLargeEnough)
{
    auto info = memory_map({ { mib, gib, available }, { 4 * gib, mib, available }, { 4 * gib + mib, 8 * mib, reserved },
        { 4 * gib + 9 * mib, 64 * mib, available } });
    auto ram = rt::boot::ram_above_4gib(info, 3 * mib);
    ASSERT_FALSE(ram.is_error());
    EXPECT_EQ(ram.value(), 4 * gib + 10 * mib); // page-aligned: 4 GiB + 9 MiB rounded up
    auto too_much = rt::boot::ram_above_4gib(info, gib);
    ASSERT_TRUE(too_much.is_error());
    EXPECT_STREQ(too_much.error().message().data(), "the memory map has no 1048576 KiB of RAM above 4 GiB (QEMU: -m 5G or more)");
    // RAM at the very top of the address space: rounding its start up would wrap to 0.
    auto top = memory_map({ { ~0ull - 0xFFFFE, 0xFFFFE, available } });
    EXPECT_TRUE(rt::boot::ram_above_4gib(top, 4096).is_error());
    // RAM that straddles 4 GiB counts from 4 GiB on.
    auto straddling = memory_map({ { 3 * gib, 2 * gib, available } });
    EXPECT_EQ(rt::boot::ram_above_4gib(straddling, 8 * mib).value(), 4 * gib);
}
