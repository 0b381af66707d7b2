#!/usr/bin/env bash
# stories260K converted to GGUF: as F32 it must tell the golden story token for token (as
# qwen2 too, and with a rope_freqs.weight of ones); as Q8_0, F16 and BF16 a coherent one (it
# starts the same way).
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
"$convert" "$model" "$tokenizer" "$work/f16.gguf" --type f16 || exit 1
"$convert" "$model" "$tokenizer" "$work/bf16.gguf" --type bf16 || exit 1
# No tokenizer file: the GGUF's own vocabulary must be used (a missing path proves it).
"$program" "$work/f32.gguf" /dev/null temp=0 steps=200 > "$work/f32.log" 2>&1 || { cat "$work/f32.log"; exit 1; }
"$program" "$work/q8.gguf" /dev/null temp=0 steps=200 > "$work/q8.log" 2>&1 || { cat "$work/q8.log"; exit 1; }
# The same model as qwen2 (rows reordered for RoPE over halves, zero biases) is the same
# model; a rope_freqs.weight of ones changes nothing, of eights changes the story.
"$convert" "$model" "$tokenizer" "$work/qwen2.gguf" --type f32 --qwen2 > /dev/null || exit 1
"$convert" "$model" "$tokenizer" "$work/rope1.gguf" --type f32 --rope-factors 1 > /dev/null || exit 1
"$convert" "$model" "$tokenizer" "$work/rope8.gguf" --type f32 --rope-factors 8 > /dev/null || exit 1
# A factor that is no frequency factor is refused in one line, before anything runs.
"$convert" "$model" "$tokenizer" "$work/rope-bad.gguf" --type f32 --rope-factors -1 > /dev/null || exit 1
if "$program" "$work/rope-bad.gguf" /dev/null temp=0 steps=20 > "$work/rope-bad.log" 2>&1 \
   || ! grep -q '^\[error\] gguf: rope_freqs.weight holds -1.* at 0: not a frequency factor' "$work/rope-bad.log"; then
  cat "$work/rope-bad.log"; echo "FAIL: a negative rope factor was not refused as it should be"; exit 1
fi
for name in qwen2 rope1 rope8 f16 bf16; do
  "$program" "$work/$name.gguf" /dev/null temp=0 steps=200 > "$work/$name.log" 2>&1 || { cat "$work/$name.log"; exit 1; }
done
sed -n '/prompt:/,/positions/p' "$work/q8.log"
python3 - "$work/f32.log" "$work/q8.log" "$golden" "$work/qwen2.log" "$work/rope1.log" "$work/rope8.log" "$work/f16.log" "$work/bf16.log" <<'PY'
import sys
f32, q8, golden, qwen2, rope1, rope8, f16, bf16 = (open(p, encoding="utf-8", errors="replace").read() for p in sys.argv[1:9])
ok = True
if golden not in f32:
    print("FAIL: the F32 GGUF does not tell the golden story"); ok = False
if golden not in qwen2 or "[model] GGUF qwen2:" not in qwen2:
    print("FAIL: the model as qwen2 does not tell the golden story"); ok = False
if golden not in rope1 or golden in rope8 or "Once upon a time" not in rope8:
    print("FAIL: rope_freqs.weight is not applied as it should be"); ok = False
start = "Once upon a time, there was a little girl named Lily."
for name, log in (("Q8_0", q8), ("F16", f16), ("BF16", bf16)):
    if start not in log:
        print(f"FAIL: the {name} GGUF story does not start as expected"); ok = False
# The 16-bit files' matrices are read as such, by their tuned operation.
for name, log in (("F16", f16), ("BF16", bf16)):
    if f"[model] tensors: 11 F32, 36 {name}" not in log or f"gguf_{name.lower()}:" not in log:
        print(f"FAIL: the {name} file's matrices are not read as {name}"); ok = False
if ok:
    print("PASS: F32 GGUF = golden story (as llama, as qwen2, with rope factors of one); Q8_0, F16 and BF16 GGUFs tell a coherent story; factors of eight change it")
sys.exit(0 if ok else 1)
PY
