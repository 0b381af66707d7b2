#!/usr/bin/env bash
# Optional: BareFlow reads the files llama.cpp's own tools make, in the types people
# download. Skipped unless LLAMA_CPP_BIN names a llama.cpp build's bin/ folder (with
# llama-convert-llama2c-to-ggml and llama-quantize); the models it makes stay in WORK_DIR
# (in the build folder), never in the repository.
#   LLAMA_CPP_BIN=/path/to/llama.cpp/build/bin \
#     llama_quantize_test.sh MAKE_CHECKPOINT CONVERT_GGUF COMPARE_LOGITS HOST_PROGRAM WORK_DIR
# For stories260K (rows of 64: llama-quantize falls back from k-quants to Q5_0/Q5_1/Q8_0)
# and a random checkpoint at the 42M shape (rows of 512: real k-quants), it converts the
# checkpoint to an F32 GGUF with llama.cpp's converter, quantises it with llama-quantize,
# and checks that BareFlow loads each file, that its logits follow the F32 file's within
# the type's quantisation error, and (stories260K) that the greedy story starts as the
# float model's does.
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
make_checkpoint="$1" convert_gguf="$2" compare="$3" host="$4" work="$5"
. "$root/scripts/models.sh"
if [ -z "${LLAMA_CPP_BIN:-}" ]; then
  echo "SKIP: set LLAMA_CPP_BIN to a llama.cpp build's bin/ folder to check its files"
  exit 77
fi
for tool in llama-convert-llama2c-to-ggml llama-quantize; do
  [ -x "$LLAMA_CPP_BIN/$tool" ] || { echo "SKIP: $LLAMA_CPP_BIN/$tool is missing"; exit 77; }
done
model="$(find_model stories260K.bin)" && tok512="$(find_model tok512.bin)" || exit 1
mkdir -p "$work"
status=0

# llama.cpp's converter: a llama2.c checkpoint and its tokenizer to an F32 GGUF.
to_gguf() { # CHECKPOINT TOKENIZER OUT
  "$LLAMA_CPP_BIN/llama-convert-llama2c-to-ggml" --copy-vocab-from-model "$2" --llama2c-model "$1" \
    --llama2c-output-model "$3" > "$3.log" 2>&1 || { tail -5 "$3.log"; echo "FAIL: llama-convert-llama2c-to-ggml on $1"; exit 1; }
}

# check NAME F32.gguf TYPE MAX_MEAN_ERROR: quantise with llama-quantize, compare the logits.
# The bounds are about 1.5 times what these models give; logits read from a misread
# layout are as far from the F32 ones as another model's (relative error above 1).
check() {
  local name="$1" f32="$2" type="$3" bound="$4" out="$work/$1-$3.gguf"
  "$LLAMA_CPP_BIN/llama-quantize" "$f32" "$out" "$type" > "$out.log" 2>&1 \
    || { tail -5 "$out.log"; echo "FAIL: llama-quantize $type"; status=1; return; }
  echo "==== $name $type (llama-quantize)"
  if "$compare" "$f32" "$out" --positions 24 --max-mean-error "$bound" > "$out.compare" 2>&1; then
    grep -v '^position' "$out.compare"
  else
    cat "$out.compare"; echo "FAIL: $name $type: logits too far from the F32 file's"; status=1
  fi
}

# ---- stories260K: the fallback types, and the story itself
to_gguf "$model" "$tok512" "$work/s260k-f32.gguf"
"$host" "$work/s260k-f32.gguf" /dev/null temp=0 steps=60 > "$work/s260k-f32.story" 2>&1 \
  || { tail -5 "$work/s260k-f32.story"; echo "FAIL: BareFlow cannot run llama.cpp's F32 conversion"; exit 1; }
story_start() { sed -n '/prompt:/,/positions/p' "$1" | sed -n 3p | cut -c1-60; }
expected="$(story_start "$work/s260k-f32.story")"
echo "F32 story (llama.cpp's conversion): $expected"
# llama.cpp's F32 conversion is the checkpoint itself: the same story, token for token.
"$host" "$model" "$tok512" temp=0 steps=60 > "$work/s260k-bin.story" 2>&1 || exit 1
if [ "$(sed -n '/prompt:/,/positions/p' "$work/s260k-bin.story" | sed -n 3p)" = "$(sed -n '/prompt:/,/positions/p' "$work/s260k-f32.story" | sed -n 3p)" ]; then
  echo "PASS: llama.cpp's F32 GGUF tells the .bin's story"
else
  echo "FAIL: llama.cpp's F32 GGUF and the .bin tell different stories"; status=1
fi
for type_bound in Q5_0:0.1 Q5_1:0.1 Q4_1:0.15 Q4_K_M:0.1 Q5_K_M:0.1 Q8_0:0.02 F16:0.002 BF16:0.01 IQ4_NL:0.15; do
  type="${type_bound%%:*}"
  check s260k "$work/s260k-f32.gguf" "$type" "${type_bound#*:}"
  file="$work/s260k-$type.gguf"
  [ -f "$file" ] || continue
  "$host" "$file" /dev/null temp=0 steps=60 > "$file.story" 2>&1 || { tail -5 "$file.story"; echo "FAIL: BareFlow on $type"; status=1; continue; }
  grep -o 'tensors: .*' "$file.story" | head -1
  got="$(story_start "$file.story")"
  echo "story: $got"
  # The first words at least: quantisation may change a later choice.
  [ "${got:0:30}" = "${expected:0:30}" ] || { echo "FAIL: the $type story does not start as the F32 one"; status=1; }
done

# ---- a random checkpoint at the 42M shape (dim 512): the k-quants themselves
vocabulary="$(find_model tokenizer.bin)" || { echo "SKIP (42M part): tokenizer.bin not in '$(models_folder)'"; exit $status; }
"$make_checkpoint" --shape 42M -o "$work/r42m.bin" > /dev/null || exit 1
to_gguf "$work/r42m.bin" "$vocabulary" "$work/r42m-f32.gguf"
for type_bound in Q5_K_M:0.15 Q3_K_M:0.5 Q5_0:0.17 Q5_1:0.18 Q4_K_M:0.27 IQ4_NL:0.3 IQ4_XS:0.3 Q2_K:0.8; do
  check r42m "$work/r42m-f32.gguf" "${type_bound%%:*}" "${type_bound#*:}"
done
# BareFlow's own writer, for scale: its Q5_K_M and Q3_K_M against the same float model.
for type in q5_k_m q3_k_m; do
  "$convert_gguf" "$work/r42m.bin" "$vocabulary" "$work/r42m-bareflow-$type.gguf" --type "$type" > /dev/null || exit 1
  echo "==== r42m $type (bareflow-convert-gguf, for comparison)"
  "$compare" "$work/r42m-f32.gguf" "$work/r42m-bareflow-$type.gguf" --positions 24 | grep -v '^position'
done
[ $status = 0 ] && echo "PASS: BareFlow reads llama-quantize's files and follows their F32 originals"
exit $status
