#!/usr/bin/env bash
# stories260K converted to GGUF: as F32 it must tell the golden story token for token;
# as Q8_0 a coherent one (it starts the same way).
#   gguf_story_test.sh CONVERT_TOOL HOST_PROGRAM GOLDEN_FILE
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
convert="$1" program="$2" golden="$3"
. "$root/scripts/models.sh"
model="$(find_model stories260K.bin)" && tokenizer="$(find_model tok512.bin)" || exit 1
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$convert" "$model" "$tokenizer" "$work/f32.gguf" --type f32 || exit 1
"$convert" "$model" "$tokenizer" "$work/q8.gguf" --type q8_0 || exit 1
# No tokenizer file: the GGUF's own vocabulary must be used (a missing path proves it).
"$program" "$work/f32.gguf" /dev/null temp=0 steps=200 > "$work/f32.log" 2>&1 || { cat "$work/f32.log"; exit 1; }
"$program" "$work/q8.gguf" /dev/null temp=0 steps=200 > "$work/q8.log" 2>&1 || { cat "$work/q8.log"; exit 1; }
sed -n '/prompt:/,/positions/p' "$work/q8.log"
python3 - "$work/f32.log" "$work/q8.log" "$golden" <<'PY'
import sys
f32, q8, golden = (open(p, encoding="utf-8", errors="replace").read() for p in sys.argv[1:4])
ok = True
if golden not in f32:
    print("FAIL: the F32 GGUF does not tell the golden story"); ok = False
start = "Once upon a time, there was a little girl named Lily."
if start not in q8:
    print("FAIL: the Q8_0 GGUF story does not start as expected"); ok = False
if ok:
    print("PASS: F32 GGUF = golden story; Q8_0 GGUF tells a coherent story")
sys.exit(0 if ok else 1)
PY
