#!/usr/bin/env bash
# The hosted program must tell the golden story: stories260K, "Once upon a time",
# temperature 0, 200 steps (llama2.c's own regression case).
#   story_test.sh PROGRAM GOLDEN_FILE
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
program="$1" golden="$2"
. "$root/scripts/models.sh"
model="$(find_model stories260K.bin)" && tokenizer="$(find_model tok512.bin)" || exit 1
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
runner=()
# ELF class byte: 1 means a 32-bit program.
[ "$(od -An -tu1 -j4 -N1 "$program" | tr -d " ")" = 1 ] && runner=("$root/scripts/run-i686.sh")
"${runner[@]}" "$program" "$model" "$tokenizer" prompt="Once upon a time" temp=0 steps=200 > "$out" 2>&1
status=$?
cat "$out"
[ $status -eq 0 ] || { echo "FAIL: exit status $status"; exit 1; }
python3 - "$out" "$golden" <<'PY'
import sys
out = open(sys.argv[1], encoding="utf-8", errors="replace").read()
golden = open(sys.argv[2], encoding="utf-8").read()
if golden not in out:
    print("FAIL: the output does not contain the golden story")
    sys.exit(1)
print("PASS: golden story reproduced")
PY
