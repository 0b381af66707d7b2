#!/usr/bin/env bash
# bareflow-quantize on stories260K.bin must write exactly llama2.c's stories260K_q80.bin.
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
tool="$1"
models="${BAREFLOW_MODELS:-$root/models}"
if [ ! -f "$models/stories260K.bin" ] || [ ! -f "$models/stories260K_q80.bin" ]; then
  echo "SKIP: stories260K.bin and stories260K_q80.bin not in '$models' (set BAREFLOW_MODELS)"
  exit 77
fi
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
"$tool" "$models/stories260K.bin" "$out" --group 32 || exit 1
if cmp "$out" "$models/stories260K_q80.bin"; then
  echo "PASS: identical to llama2.c's export ($(stat -c %s "$out") bytes)"
else
  echo "FAIL: the int8 file differs from llama2.c's export"
  exit 1
fi
