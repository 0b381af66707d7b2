#include "options.h"
#include "llm/batch_state.h"
#include <rt/boot.h>
#include <rt/boot_options.h>
#include <rt/screen_choice.h>
#include <rt/work_pool.h>

namespace app {

rt::ErrorOr<void> read_sampling_keys(rt::CommandLine const& command_line, Options& options)
{
    options.steps = i32(TRY(command_line.get_integer("steps", options.steps, 1, 1 << 20)));
    options.temperature = float(TRY(command_line.get_number("temp", double(options.temperature), 0.0, 100.0)));
    options.top_p = float(TRY(command_line.get_number("topp", double(options.top_p), 0.0, 1.0)));
    options.top_k = i32(TRY(command_line.get_integer("topk", options.top_k, 0, 1 << 20)));
    options.seed_given = options.seed_given || command_line.has("seed");
    options.seed = u64(TRY(command_line.get_integer("seed", i64(options.seed), 0, INT64_MAX)));
    return {};
}

rt::ErrorOr<i32> story_steps(Options const& options, i32 context)
{
    constexpr i32 default_steps = 256;
    if (options.steps == 0)
        return rt::min(default_steps, context);
    if (options.steps > context)
        return rt::Error::format("steps={} is more than the model's context of {} tokens", options.steps, context);
    return options.steps;
}

// date=clock|none|YYYY-MM-DD
static rt::ErrorOr<void> read_date(rt::CommandLine const& command_line, Options& options)
{
    rt::StringView text = TRY(command_line.get_string("date", "clock"));
    if (text == "clock" || text == "none") {
        options.date_source = text == "clock" ? Options::DateSource::Clock : Options::DateSource::None;
        return {};
    }
    auto digits = [&](size_t from, size_t count, i32& value) {
        value = 0;
        for (size_t i = from; i < from + count; ++i) {
            if (text[i] < '0' || text[i] > '9')
                return false;
            value = value * 10 + (text[i] - '0');
        }
        return true;
    };
    i32 year = 0, month = 0, day = 0;
    bool shaped = text.length() == 10 && text[4] == '-' && text[7] == '-' && digits(0, 4, year) && digits(5, 2, month) && digits(8, 2, day);
    rt::DateTime date { year, u8(month), u8(day), 0, 0, 0 };
    if (!shaped || month > 12 || !date.valid())
        return rt::Error::format("date={} is not a date: give YYYY-MM-DD (e.g. date=2026-11-30), clock or none", text);
    options.date_source = Options::DateSource::Given;
    options.date = date;
    return {};
}

rt::ErrorOr<Options> parse_options(rt::CommandLine const& command_line)
{
    // Known keys: the runtime's and ours.
    rt::StringView known[sizeof application_keys / sizeof application_keys[0] + sizeof rt::runtime_command_line_keys / sizeof rt::runtime_command_line_keys[0]];
    size_t count = 0;
    for (auto key : application_keys)
        known[count++] = key;
    for (auto key : rt::runtime_command_line_keys)
        known[count++] = key;
    TRY(command_line.check_known({ known, count }));
    // The runtime reads its own keys early; their values are checked here too, so a bad
    // one stops the boot like any other instead of being ignored.
    TRY(command_line.get_choice("fault", rt::fault_kinds, "divide"));
    rt::StringView endings[] = { "halt", "poweroff" };
    TRY(command_line.get_choice("end", endings, "halt"));
    TRY(command_line.get_integer("cpus", 1, 1, i64(rt::WorkPool::max_workers)));
    TRY(command_line.get_choice("x2apic", rt::boot::x2apic_choices, "auto"));
    TRY(command_line.get_choice("screen_test", rt::boot::screen_test_choices, "none"));
    TRY(command_line.get_choice("usb", rt::boot::usb_choices, "auto"));
    TRY(command_line.get_choice("keymap", rt::keyboard_layout_names, "us"));

    Options options;
    rt::StringView modes[] = { "generate", "interactive", "bench", "chat" };
    auto mode = TRY(command_line.get_choice("mode", modes, "generate"));
    options.mode = mode == "interactive" ? Mode::Interactive : mode == "bench" ? Mode::Bench : mode == "chat" ? Mode::Chat : Mode::Generate;
    options.system = TRY(command_line.get_string("system", options.system));
    TRY(read_date(command_line, options));
    rt::StringView think_choices[] = { "auto", "on", "off" };
    auto think = TRY(command_line.get_choice("think", think_choices, "auto"));
    options.thinking = think == "on" ? Thinking::On : think == "off" ? Thinking::Off : Thinking::Undefined;
    options.prompt = TRY(command_line.get_string("prompt", options.prompt));
    TRY(read_sampling_keys(command_line, options));
    rt::StringView quant_choices[] = { "none", "q8" };
    options.quantize = TRY(command_line.get_choice("quant", quant_choices, "none")) == "q8";
    options.tune = TRY(command_line.get_string("tune", "auto"));
    options.batch = i32(TRY(command_line.get_integer("batch", 0, 1, llm::max_batch)));
    rt::StringView argmax_choices[] = { "screened", "full" };
    options.screened_argmax = TRY(command_line.get_choice("argmax", argmax_choices, "screened")) == "screened";
    return options;
}

}
