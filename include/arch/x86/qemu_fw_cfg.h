#pragma once
#include <rt/string_view.h>

namespace x86::fw_cfg {

// Reads the named file from QEMU's firmware configuration device (-fw_cfg name=...,file=...)
// into `out`, if it fits. Returns the file's size as the device's directory gives it (so a
// caller can tell a file larger than `capacity`, of which nothing is read), or -1 when
// there is no such device (real hardware) or no such file. scripts/boot.sh passes extra
// command-line text this way.
i64 read_file(rt::StringView name, char* out, size_t capacity);

}
