#!/usr/bin/env bash
# The hosted builds (x86-64 and i686) and the kernel in QEMU must print the same story for
# the same model, prompt, temperature, top-p and seed: stories260K, or with
# --gguf-mini-q4km a random-weight GGUF in TinyLlama-Chat's Q4_K_M layout (k-quant kernels),
# or with --gguf-mini TYPE one of bareflow-convert-gguf's other types and mixes (q3_k_m:
# Q3_K, Q4_K, Q5_K and Q6_K; q5_1 ...), or with --gguf-arch ARCH one in Qwen3's, Gemma 3's
# or Gemma 2's layout (qwen3: head norms, heads wider than dim / heads; gemma3: sliding
# window, output norms, GELU; gemma2: gemma3's with soft caps, no head norms; phi3: fused
# matrices, LongRoPE; granite: multipliers; smollm3: layers without RoPE; olmo2: norms
# after the sublayers only; all with their own byte-level vocabulary).
#   compare_host_kernel.sh KERNEL HOST_PROGRAM HOST_PROGRAM_I686
#                          [--gguf-mini-q4km CONVERT_TOOL | --gguf-mini TYPE CONVERT_TOOL | --gguf-arch qwen3|gemma3|gemma2|phi3|granite|smollm3|olmo2 CONVERT_TOOL]
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
kernel="$1" host="$2" host_i686="$3"
. "$root/scripts/models.sh"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mini_type=""
case "${4:-}" in
  --gguf-mini-q4km) mini_type=q4_k_m convert="$5" ;;
  --gguf-mini) mini_type="$5" convert="$6" ;;
  --gguf-arch) arch="$5" convert="$6" ;;
esac
if [ "${4:-}" = --gguf-arch ]; then
  "$convert" --random "$arch-mini" byte-level "$work/model.gguf" --type q8_0 >/dev/null || exit 1
  model="$work/model.gguf" tokenizer=/dev/null iso_models=(--model "$work/model.gguf") steps=100
elif [ -n "$mini_type" ]; then
  vocabulary="$(find_model tokenizer.bin)" || { echo "SKIP: tokenizer.bin not in '$(models_folder)' (set BAREFLOW_MODELS)"; exit 77; }
  "$convert" --random mini "$vocabulary" "$work/model.gguf" --type "$mini_type" >/dev/null || exit 1
  model="$work/model.gguf" tokenizer=/dev/null iso_models=(--model "$work/model.gguf") steps=100
else
  model="$(find_model stories260K.bin)" && tokenizer="$(find_model tok512.bin)" || exit 1
  steps=150
  iso_models=(--model "$model" --tokenizer "$tokenizer")
fi
# Every operation is named in the plan: one left out would run the scalar reference, and
# its SIMD code would never be compared. Host and kernel run the same plan, once per
# instruction set: SSE2, which every CPU here has, and AVX2, the widest that both this CPU
# and QEMU's `-cpu max` (TCG: AVX2, no AVX-512) run, and avx2tcg, AVX2 shaped for TCG
# (its own interleaved K rows). Every variant gives the reference's bits (fp32_order.h), so
# the plans must also tell the same story.
ops=(matmul matmul_q8 rmsnorm softmax attention swiglu gguf_q8_0 gguf_q4_0 gguf_q4_0x8 gguf_q8_0x8 gguf_q4_k gguf_q4_kx8 gguf_q6_k gguf_q6_kx8 gguf_q5_0 gguf_q5_1 gguf_q4_1 gguf_q5_k gguf_q5_kx8 gguf_q3_k gguf_q2_k gguf_f16 gguf_bf16 gguf_iq4_nl gguf_iq4_xs matmul_q8x8 quantize)
isas=(sse2)
if grep -qw avx2 /proc/cpuinfo; then
  isas+=(avx2 avx2tcg)
else
  echo "SKIP (avx2 pass): this CPU lacks AVX2; only the SSE2 plan is compared"
fi
settings=(prompt="Lily and Tom" temp=0.8 topp=0.9 seed=42 steps=$steps)

# The story is what lies between the blank line after "[gen] prompt:" and the summary.
extract() {
  sed -e 's/\r$//' "$1" | awk '/^\[gen\] prompt:/ { inside = 1; getline; next } /^\[gen\] [0-9]+ prompt tokens?,/ { inside = 0 } inside' > "$2"
}

# One ISO; each pass appends its plan through fw_cfg.
"$root/scripts/mkiso.sh" -o "$work/test.iso" --kernel "$kernel" --menu-timeout 0 "${iso_models[@]}" \
  --cmdline "prompt=\"Lily and Tom\" temp=0.8 topp=0.9 seed=42 steps=$steps" >/dev/null || exit 1

status=0
for isa in "${isas[@]}"; do
  plan=""
  for op in "${ops[@]}"; do plan+="${plan:+,}$op:$isa"; done
  echo "==== plan tune=$plan"
  "$host" "$model" "$tokenizer" "${settings[@]}" tune=$plan > "$work/host-$isa.log" 2>&1 || { cat "$work/host-$isa.log"; exit 1; }
  "$root/scripts/run-i686.sh" "$host_i686" "$model" "$tokenizer" "${settings[@]}" tune=$plan > "$work/i686-$isa.log" 2>&1 \
    || { cat "$work/i686-$isa.log"; exit 1; }
  "$root/scripts/boot.sh" "$work/test.iso" --timeout 90 --cmdline "tune=$plan" > "$work/kernel-$isa.log" 2>&1 \
    || { tail -20 "$work/kernel-$isa.log"; echo "FAIL: boot failed ($isa plan)"; exit 1; }
  for run in host i686 kernel; do
    # The plan each run reports must be $isa for every operation the app knows (its
    # prefetch entry, how the kernels read ahead, names no instruction set).
    used="$(sed -e 's/\r$//' "$work/$run-$isa.log" | grep -o 'tune=[^ ]*' | tail -1)"
    if [ -z "$used" ] || tr ',' '\n' <<< "${used#tune=}" | grep -v '^prefetch:' | grep -qv ":$isa\(@[0-9]*\)\?$"; then
      echo "FAIL: the $run run did not use $isa for every operation: ${used:-no plan line}"; status=1
    fi
    extract "$work/$run-$isa.log" "$work/$run-$isa.txt"
  done
  echo "---- story (x86-64 host, $isa) ----"
  cat "$work/host-$isa.txt"
  [ -s "$work/host-$isa.txt" ] || { echo "FAIL: no story found in the host output ($isa)"; exit 1; }
  for run in i686 kernel; do
    if cmp -s "$work/host-$isa.txt" "$work/$run-$isa.txt"; then
      echo "PASS: $run output is identical to the x86-64 host output ($isa plan)"
    else
      echo "FAIL: $run output differs ($isa plan):"; diff "$work/host-$isa.txt" "$work/$run-$isa.txt"; status=1
    fi
  done
done
for isa in "${isas[@]:1}"; do
  if cmp -s "$work/host-${isas[0]}.txt" "$work/host-$isa.txt"; then
    echo "PASS: the ${isas[0]} and $isa plans tell the same story"
  else
    echo "FAIL: the ${isas[0]} and $isa plans tell different stories:"; diff "$work/host-${isas[0]}.txt" "$work/host-$isa.txt"; status=1
  fi
done
exit $status
