#!/usr/bin/env bash
# The hosted builds (x86-64 and i686) and the kernel in QEMU must print the same story for
# the same model, prompt, temperature, top-p and seed: stories260K, or with
# --gguf-mini-q4km a random-weight GGUF in TinyLlama-Chat's Q4_K_M layout (k-quant kernels).
#   compare_host_kernel.sh KERNEL HOST_PROGRAM HOST_PROGRAM_I686 [--gguf-mini-q4km CONVERT_TOOL]
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
kernel="$1" host="$2" host_i686="$3"
. "$root/scripts/models.sh"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
if [ "${4:-}" = --gguf-mini-q4km ]; then
  vocabulary="$(find_model tokenizer.bin)" || { echo "SKIP: tokenizer.bin not in '$(models_folder)' (set BAREFLOW_MODELS)"; exit 77; }
  "$5" --random mini "$vocabulary" "$work/model.gguf" --type q4_k_m >/dev/null || exit 1
  model="$work/model.gguf" tokenizer=/dev/null iso_models=(--model "$work/model.gguf") steps=100
else
  model="$(find_model stories260K.bin)" && tokenizer="$(find_model tok512.bin)" || exit 1
  steps=150
  iso_models=(--model "$model" --tokenizer "$tokenizer")
fi
# A fixed SSE2 plan: the SIMD kernels (no FMA) must give the same bits everywhere too.
plan="matmul:sse2,rmsnorm:sse2,softmax:sse2,attention:sse2,swiglu:sse2"
settings=(prompt="Lily and Tom" temp=0.8 topp=0.9 seed=42 steps=$steps tune=$plan)

# The story is what lies between the blank line after "[gen] prompt:" and the summary.
extract() {
  sed -e 's/\r$//' "$1" | awk '/^\[gen\] prompt:/ { inside = 1; getline; next } /^\[gen\] [0-9]+ prompt tokens?,/ { inside = 0 } inside' > "$2"
}

"$host" "$model" "$tokenizer" "${settings[@]}" > "$work/host.log" 2>&1 || { cat "$work/host.log"; exit 1; }
"$root/scripts/run-i686.sh" "$host_i686" "$model" "$tokenizer" "${settings[@]}" > "$work/i686.log" 2>&1 || { cat "$work/i686.log"; exit 1; }
"$root/scripts/mkiso.sh" -o "$work/test.iso" --kernel "$kernel" --menu-timeout 0 "${iso_models[@]}" \
  --cmdline "prompt=\"Lily and Tom\" temp=0.8 topp=0.9 seed=42 steps=$steps tune=$plan" >/dev/null || exit 1
"$root/scripts/boot.sh" "$work/test.iso" --timeout 90 > "$work/kernel.log" 2>&1 || { tail -20 "$work/kernel.log"; echo "FAIL: boot failed"; exit 1; }

for run in host i686 kernel; do
  extract "$work/$run.log" "$work/$run.txt"
done
echo "---- story (x86-64 host) ----"
cat "$work/host.txt"
[ -s "$work/host.txt" ] || { echo "FAIL: no story found in the host output"; exit 1; }
status=0
for run in i686 kernel; do
  if cmp -s "$work/host.txt" "$work/$run.txt"; then
    echo "PASS: $run output is identical to the x86-64 host output"
  else
    echo "FAIL: $run output differs:"; diff "$work/host.txt" "$work/$run.txt"; status=1
  fi
done
exit $status
