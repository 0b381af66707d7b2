#pragma once
#include <rt/error.h>

namespace x86 {

// Prints "[error] ..." and ends the run with the failure status: where the boot sequence
// (or the application) reports an error value. rt::panic, for broken invariants, is in
// panic.cpp too.
[[noreturn]] void fail(rt::Error const&);

}
