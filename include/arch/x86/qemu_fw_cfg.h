#pragma once
#include <rt/string_view.h>

namespace x86::fw_cfg {

// Reads the named file from QEMU's firmware configuration device (-fw_cfg name=...,file=...)
// into `out`. Returns the number of bytes read, or -1 when there is no such device (real
// hardware) or no such file. scripts/boot.sh passes extra command-line text this way.
i64 read_file(rt::StringView name, char* out, size_t capacity);

}
