#pragma once
// The command-line keys that shape the boot itself (rt/boot.h lists every runtime key).
#include <rt/cmdline.h>

namespace rt::boot {

// cpus=N (default: every core found, up to the work pool's maximum): how many processors
// share the work.
ErrorOr<size_t> wanted_processor_count(CommandLine const&);

// end=halt|poweroff (default halt): whether the run ends by switching the machine off.
ErrorOr<bool> power_off_at_end(CommandLine const&);

}
