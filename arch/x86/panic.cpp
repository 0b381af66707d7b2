#include <arch/x86/panic.h>
#include <arch/x86/power.h>
#include <rt/boot.h>
#include <rt/console.h>

namespace x86 {

[[noreturn]] void fail(rt::Error const& error)
{
    rt::println_colored(rt::Color::Bad, "[error] {}", error.message());
    shut_down(ExitStatus::Failure);
}

}

namespace rt {

[[noreturn]] void panic(StringView message)
{
    println_colored(Color::Bad, "[panic] {}", message);
    x86::shut_down(x86::ExitStatus::Failure);
}

}
