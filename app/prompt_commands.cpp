#include "prompt_commands.h"
#include <rt/console.h>
#include <rt/format.h>

namespace app {

namespace {
constexpr rt::StringView sampling_keys[] = { "temp", "topp", "topk", "seed", "steps" };

rt::StringView trimmed(rt::StringView text)
{
    size_t begin = 0, end = text.length();
    while (begin < end && text[begin] == ' ')
        ++begin;
    while (end > begin && text[end - 1] == ' ')
        --end;
    return text.substring(begin, end - begin);
}

// "/temp 0.5" (trimmed) -> "temp" and "0.5".
struct Typed {
    rt::StringView name, value;
};
Typed split(rt::StringView line)
{
    line = line.substring(1); // after the '/'
    size_t space = line.find(' ');
    if (space == line.length())
        return { line, {} };
    return { line.substring(0, space), trimmed(line.substring(space)) };
}
}

PromptCommands::PromptCommands(rt::StringView tag, Options const& options, u64 seed, i32 context)
    : m_tag(tag), m_settings(options), m_steps(0), m_context(context)
{
    m_settings.seed = seed;
    m_settings.seed_given = true;
    if (context) {
        auto steps = story_steps(options, context);
        m_steps = steps.is_error() ? context : steps.value(); // the boot has refused a bad one
    }
}

bool PromptCommands::takes(rt::StringView key) const
{
    if (key == "steps")
        return m_context != 0;
    for (auto known : sampling_keys)
        if (key == known)
            return true;
    return false;
}

bool PromptCommands::run(rt::StringView line, llm::Sampler& sampler)
{
    line = trimmed(line);
    if (!line.starts_with("/") || line == "/reset") // /reset: the chat's own
        return false;
    auto [name, value] = split(line);
    if (name == "help") {
        show_help();
        return true;
    }
    if (name == "settings") {
        show_settings();
        return true;
    }
    if (!takes(name)) {
        rt::println_colored(rt::Color::Warning, "{} unknown command /{}: /help lists the commands", m_tag, name);
        return true;
    }
    if (value.is_empty() || value.find(' ') < value.length() || value.find('"') < value.length()) {
        rt::println_colored(rt::Color::Warning, "{} /{} takes one value (/{} and a number): the settings stay as they were", m_tag, name, name);
        return true;
    }
    // The boot's reader checks the value: "temp=0.5" read as the command line is.
    auto text = rt::FixedString<128>::formatted("{}={}", name, value);
    Options changed = m_settings;
    auto read = rt::CommandLine::parse(text.view(), m_command);
    if (!read.is_error())
        read = read_sampling_keys(m_command, changed);
    i32 steps = m_steps;
    if (!read.is_error() && name == "steps") {
        auto checked = story_steps(changed, m_context);
        if (checked.is_error())
            read = checked.release_error();
        else
            steps = checked.value();
    }
    if (read.is_error()) {
        rt::StringView message = read.error().message();
        rt::StringView boot_prefix = "command line: "; // the value was typed here, not booted with
        if (message.starts_with(boot_prefix))
            message = message.substring(boot_prefix.length());
        rt::println_colored(rt::Color::Warning, "{} {}: the settings stay as they were", m_tag, message);
        return true;
    }
    m_settings = changed;
    m_steps = steps;
    sampler.change(m_settings.temperature, m_settings.top_p, m_settings.top_k);
    if (name == "seed")
        sampler.reseed(m_settings.seed);
    show_settings();
    return true;
}

void PromptCommands::show_settings() const
{
    rt::print("{} temp={:.2f} topp={:.2f} topk={} seed={}", m_tag, double(m_settings.temperature), double(m_settings.top_p), m_settings.top_k,
        m_settings.seed);
    if (m_context)
        rt::print(" steps={}", m_steps);
    rt::println("");
}

void PromptCommands::show_help() const
{
    // A line a command, to fit an 80-column screen.
    rt::println("{} commands:", m_tag);
    rt::println("  /temp T     temperature, 0 to 100 (0: always the likeliest token)");
    rt::println("  /topp P     top-p, 0 to 1: pick among the likeliest tokens that make up P");
    rt::println("  /topk K     only the K likeliest tokens (0: no limit)");
    rt::println("  /seed S     start the random sequence over, as seed=S at boot does");
    if (m_context) {
        rt::println("  /steps N    positions a story may take, 1 to {}", m_context);
    } else {
        rt::println("  /reset      forget the conversation; /system TEXT: start over with TEXT");
        rt::println("  /think X    on, off or auto: reasoning first (templates with enable_thinking)");
    }
    rt::println("  /settings   show the settings; /help this list; exit ends");
    rt::println("  keys: arrows, Home, End, Backspace, Delete edit the line; Up and Down");
    rt::println("  recall lines; Ctrl+C stops a story or a reply; Ctrl+D on an empty line ends");
}

}
