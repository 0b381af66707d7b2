#include <rt/boot_options.h>
#include <rt/work_pool.h>

namespace rt::boot {

ErrorOr<size_t> wanted_processor_count(CommandLine const& command_line)
{
    auto wanted = TRY(command_line.get_integer("cpus", 0, 1, i64(WorkPool::max_workers)));
    return wanted ? size_t(wanted) : WorkPool::max_workers;
}

ErrorOr<bool> x2apic_wanted(CommandLine const& command_line)
{
    return TRY(command_line.get_choice("x2apic", x2apic_choices, "auto")) == "on";
}

ErrorOr<bool> usb_keyboards_wanted(CommandLine const& command_line)
{
    auto choice = TRY(command_line.get_choice("usb", usb_choices, "auto"));
    if (choice != "auto")
        return choice == "on";
    auto mode = TRY(command_line.get_string("mode", "generate"));
    return mode == "interactive" || mode == "chat";
}

ErrorOr<KeyboardLayout const*> keyboard_layout(CommandLine const& command_line)
{
    return KeyboardLayout::find(TRY(command_line.get_choice("keymap", keyboard_layout_names, "us")));
}

ErrorOr<bool> power_off_at_end(CommandLine const& command_line)
{
    StringView endings[] = { "halt", "poweroff" };
    auto ending = TRY(command_line.get_choice("end", endings, "halt"));
    return ending == "poweroff";
}

}
