#!/usr/bin/env bash
# Runs a 32-bit (i686) Linux program: directly where the kernel can, else under qemu-i386
# (some VMs' kernels are built without 32-bit support).
#   scripts/run-i686.sh PROGRAM [ARGS...]
set -uo pipefail
program="$1"
shift
if "$program" --probe-i686 >/dev/null 2>&1 || [ $? -ne 126 ]; then
  exec "$program" "$@"
fi
command -v qemu-i386 >/dev/null || { echo "run-i686: this kernel cannot run 32-bit programs; install qemu-user" >&2; exit 126; }
exec qemu-i386 -L / "$program" "$@"
