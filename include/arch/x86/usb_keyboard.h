#pragma once
// The USB keyboards of a PC whose firmware does not pass them on as a PS/2 keyboard (most
// UEFI boots): every xHCI controller on the PCI buses taken over, and the boot keyboards
// on their ports (and hubs) read as one more source of typed characters.
#include <arch/x86/xhci.h>
#include <rt/console.h>
#include <rt/multiboot2.h>

namespace x86 {

class UsbKeyboards final : public rt::InputSource {
public:
    // Finds the controllers and keyboards; the log says what it found. Returns how many
    // controllers were taken over (keyboards plugged in later are read too).
    u32 bring_up(rt::multiboot2::BootInfo const&);
    int poll() override;

private:
    static constexpr u32 max_controllers = 4;
    xhci::Controller* m_controllers[max_controllers] {};
    u32 m_controller_count { 0 };
};

}
