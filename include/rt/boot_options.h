#pragma once
// The command-line keys that shape the boot itself (rt/boot.h lists every runtime key).
#include <rt/cmdline.h>
#include <rt/keyboard_layout.h>

namespace rt::boot {

// cpus=N (default: every core found, up to the work pool's maximum): how many processors
// share the work.
ErrorOr<size_t> wanted_processor_count(CommandLine const&);

// x2apic=auto|on (default auto): the local APICs' mode. auto keeps the firmware's (x2APIC
// when it turned that on, as it must on machines with APIC ids from 255 on); on switches
// to x2APIC where the CPU has it.
ErrorOr<bool> x2apic_wanted(CommandLine const&);
// The values x2apic= takes.
constexpr StringView x2apic_choices[] = { "auto", "on" };

// usb=auto|on|off (default auto): whether the kernel takes the xHCI controllers over from
// the firmware to read USB keyboards itself. auto does so where keys are read (mode=
// interactive or chat): a firmware that passes a USB keyboard on as PS/2 stops doing so
// once the controller is taken, so a run that reads no keys leaves the controllers alone.
ErrorOr<bool> usb_keyboards_wanted(CommandLine const&);
constexpr StringView usb_choices[] = { "auto", "on", "off" };

// keymap=us|uk|de|fr (default us): the layout the keyboards type with
// (rt/keyboard_layout.h; a terminal on the serial line sends characters of its own).
ErrorOr<KeyboardLayout const*> keyboard_layout(CommandLine const&);

// end=halt|poweroff (default halt): whether the run ends by switching the machine off.
ErrorOr<bool> power_off_at_end(CommandLine const&);

}
