#pragma once
// The whole kernel command line: the boot menu entry's, then extra text the platform
// hands over (QEMU's fw_cfg file opt/bareflow/cmdline, which scripts/boot.sh --cmdline
// writes), appended so it wins over the entry's defaults.
#include <rt/error.h>

namespace rt::boot {

// Reads the platform's extra command-line text into `out` if it fits in `capacity`.
// Returns its size (larger than `capacity` when nothing was read because it does not
// fit), or a negative number when there is none.
using ExtraTextReader = i64 (*)(char* out, size_t capacity);

// Joins `menu` and the extra text with one space into `buffer`, NUL-terminated. A line
// that does not fit is refused with its length, never cut: a cut line still parses,
// wrongly. Says on the console what was appended.
ErrorOr<StringView> assemble_command_line(StringView menu, ExtraTextReader, Span<char> buffer);

}
