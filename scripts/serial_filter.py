#!/usr/bin/env python3
"""Shows a boot's serial output from the kernel's first line on, as it arrives.

GRUB draws its menu on the serial console with terminal escape sequences; a person running
scripts/run.sh wants the kernel's text, not that. Everything before the kernel's banner is
dropped (the caller keeps the raw log); from the banner on, bytes pass through unchanged and
unbuffered, so a story streams word by word.
    serial_filter.py [BANNER]   (stdin -> stdout)
"""
import os
import sys

banner = (sys.argv[1] if len(sys.argv) > 1 else "BareFlow: a self-profiling").encode()
pending = b""
passing = False
while True:
    chunk = os.read(0, 4096)
    if not chunk:
        break
    if passing:
        os.write(1, chunk)
        continue
    pending += chunk
    at = pending.find(banner)
    if at >= 0:
        passing = True
        os.write(1, pending[at:])
        pending = b""
    else:
        pending = pending[-len(banner):]  # the banner may straddle two reads
if not passing:
    sys.stderr.write("run: the kernel printed nothing (see the raw log)\n")
