#pragma once
// Lines typed at "prompt> " and "you> " that begin with '/' change how the next stories or
// replies are made, without booting again: "/temp 0.5", "/topp 0.95", "/topk 40", "/seed 7"
// and, for stories, "/steps 100". They are the command line's keys, read by the same code
// (read_sampling_keys), so their ranges and messages are the boot's. "/settings" shows the
// settings, "/help" what can be typed.
#include "llm/sampler.h"
#include "options.h"

namespace app {

class PromptCommands {
public:
    // `tag` begins every line written ("[interactive]"); `seed` is the one in use (boot's
    // seed= or the clock's); `context` bounds /steps, and 0 means there is no /steps (a chat
    // takes the whole context).
    PromptCommands(rt::StringView tag, Options const& options, u64 seed, i32 context);

    // Whether `line` was a command; if so it has been carried out (and answered), the
    // sampler changed where it asked for that. A bad command or value changes nothing.
    bool run(rt::StringView line, llm::Sampler& sampler);

    // The positions a story may take, as /steps left it.
    i32 steps() const { return m_steps; }

private:
    void show_settings() const;
    void show_help() const;
    bool takes(rt::StringView key) const;

    rt::StringView m_tag;
    Options m_settings;
    i32 m_steps;
    i32 m_context;
    rt::CommandLine m_command; // the typed "/key value" as key=value
};

}
