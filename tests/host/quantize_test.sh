#!/usr/bin/env bash
# bareflow-quantize on stories260K.bin must write exactly llama2.c's stories260K_q80.bin.
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
tool="$1"
. "$root/scripts/models.sh"
model="$(find_model stories260K.bin)" || exit 1
# llama2.c's own int8 export is not shipped: the comparison needs the models folder.
if ! reference="$(find_model stories260K_q80.bin)"; then
  echo "SKIP: stories260K_q80.bin not in '$(models_folder)' (set BAREFLOW_MODELS)"
  exit 77
fi
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
"$tool" "$model" "$out" --group 32 || exit 1
if cmp "$out" "$reference"; then
  echo "PASS: identical to llama2.c's export ($(stat -c %s "$out") bytes)"
else
  echo "FAIL: the int8 file differs from llama2.c's export"
  exit 1
fi
