#include <arch/x86/device_memory.h>
#include <arch/x86/usb_keyboard.h>
#include <rt/cycles.h>

namespace x86 {

namespace {
constexpr u32 xhci_class = 0x0C0330; // serial bus controller, USB, xHCI
constexpr u64 smallest_xhci_registers = 0x1000;
}

u32 UsbKeyboards::bring_up(rt::multiboot2::BootInfo const& info)
{
    // All of them first: a window for one must not cover another's registers.
    pci::Function functions[max_controllers];
    rt::MemoryRange registers[max_controllers];
    u32 found = 0, keyboards = 0;
    pci::for_each_with_class(xhci_class, max_controllers, [&](pci::Function function) {
        functions[found] = function;
        registers[found++] = { function.memory_bar(0), function.memory_bar_size(0) };
    });
    for (u32 i = 0; i < found; ++i) {
        pci::Function function = functions[i];
        auto taken = [&]() -> rt::ErrorOr<xhci::Controller*> {
            if (registers[i].base == 0 || registers[i].length < smallest_xhci_registers)
                return rt::Error::format("its registers are not assigned (BAR 0: {:#x}, {} bytes)", registers[i].base, registers[i].length);
            auto* reached = TRY(reach_device(info, registers[i].base, registers[i].length, { registers, found }));
            return xhci::Controller::take_over(function, reached);
        }();
        if (taken.is_error()) {
            rt::println("[usb] xHCI controller at PCI {:02x}:{:02x}.{}: {}", function.bus, function.device, function.function,
                taken.error().message());
            continue;
        }
        m_controllers[m_controller_count++] = taken.value();
        keyboards += taken.value()->find_keyboards();
    }
    if (found == 0)
        rt::println("[usb] no xHCI controller: keyboards are read through PS/2 (or the firmware's emulation of it)");
    else
        rt::println("[usb] {} xHCI controller{} taken over, {} keyboard{} read", m_controller_count, m_controller_count == 1 ? "" : "s",
            keyboards, keyboards == 1 ? "" : "s");
    if (m_controller_count && !keyboards) // the firmware's emulation of a PS/2 keyboard ended with the hand-over
        rt::println("[usb] no keyboard yet: one plugged in is read; usb=off leaves USB to firmware");
    return m_controller_count;
}

int UsbKeyboards::poll()
{
    u64 now = rt::milliseconds_now();
    for (u32 i = 0; i < m_controller_count; ++i)
        if (int c = m_controllers[i]->poll(now); c >= 0)
            return c;
    return nothing_waiting;
}

}
