#pragma once
// The screen a person reads: VGA text on BIOS boots, the framebuffer on UEFI ones, shown
// through a paging window where the framebuffer lies above 4 GiB (paging.h). Which one is
// portable policy (rt/screen_choice.h); building it is this file's.
#include <rt/cmdline.h>
#include <rt/multiboot2.h>

namespace x86 {

// Builds the screen the boot information calls for, clears it and attaches it to the
// console; says on the serial line why when there is none.
void attach_screen(rt::multiboot2::BootInfo const&);
// The "[screen] ..." lines of the boot report.
void describe_screen(rt::multiboot2::BootInfo const&);
// screen_test=above-4g: the framebuffer screen moves into RAM above 4 GiB, seen through
// the window a framebuffer up there gets, for a boot test to read back (QEMU cannot put
// one there). An error where that cannot be done.
rt::ErrorOr<void> run_screen_test(rt::multiboot2::BootInfo const&, rt::CommandLine const&);

}
