#!/usr/bin/env bash
# Bad input to the hosted program: each case must end with one clear message (and the
# failure status where the run cannot go on), never a hang, a crash or a wrong success.
#   bad_input_test.sh MAKE_CHECKPOINT CONVERT_GGUF HOST_PROGRAM
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
make_checkpoint="$1" convert="$2" program="$3"
. "$root/scripts/models.sh"
model="$(find_model stories260K.bin)" && tokenizer="$(find_model tok512.bin)" || exit 1
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
failures=0

# check NAME EXPECTED_STATUS(0|1) PATTERN [REJECT_PATTERN] -- COMMAND...; stdin is passed on.
check() {
  local name="$1" status="$2" pattern="$3" reject="$4"
  shift 5
  timeout 60 "$@" > "$work/$name.log" 2>&1
  local rc=$?
  local ok=1
  [ "$rc" -eq "$status" ] || { echo "FAIL $name: exit status $rc, expected $status"; ok=0; }
  grep -aqE -- "$pattern" "$work/$name.log" || { echo "FAIL $name: no line matches '$pattern'"; ok=0; }
  if [ -n "$reject" ] && grep -aqE -- "$reject" "$work/$name.log"; then echo "FAIL $name: a line matches '$reject'"; ok=0; fi
  if [ $ok = 1 ]; then echo "PASS $name"; else failures=$((failures + 1)); grep -av '^\[tune\]\|^\[prof\]' "$work/$name.log" | tail -5 | cut -c1-200; fi
}

# A chat model with a 128-position context (random weights, the stories260K vocabulary).
"$make_checkpoint" --dim 64 --hidden 172 --layers 5 --heads 8 --kv-heads 4 --vocab 512 --seq-len 128 -o "$work/c128.bin" >/dev/null || exit 1
"$convert" "$work/c128.bin" "$tokenizer" "$work/c128.gguf" --type f32 >/dev/null || exit 1

# A message that cannot fit even an empty context is too long, not a full context.
python3 -c "print('the cat sat on the mat ' * 12); print('Hi'); print('exit')" > "$work/long.txt"
check chat-message-too-long 0 'message too long: [0-9]+ tokens with the chat markers, the limit is 120 \(a context of 128 positions' \
  'context is full \(0 of' -- "$program" "$work/c128.gguf" /dev/null mode=chat temp=0 < "$work/long.txt"
# A line longer than the input buffer is refused whole, not cut and sent.
python3 -c "print('x' * 600); print('exit')" > "$work/wide.txt"
check chat-line-too-long 0 'message too long: at most 511 characters; it was not sent' '' \
  -- "$program" "$work/c128.gguf" /dev/null mode=chat temp=0 < "$work/wide.txt"

# Weights that are all NaN: an error naming the position, not "<unk><unk>..." and success.
python3 - "$model" "$work/nan.bin" <<'PY'
import sys
data = open(sys.argv[1], "rb").read()
open(sys.argv[2], "wb").write(data[:28] + b"\xff" * (len(data) - 28))
PY
check nan-weights 1 '\[error\] generation stopped at position 4: the logits hold NaN or infinity' '<unk>' \
  -- "$program" "$work/nan.bin" "$tokenizer" temp=0 steps=20 < /dev/null

# Command-line values: a bad runtime value stops the run; a long decimal in range does not.
check fault-garbage 1 'fault="garbage" is not one of: divide, opcode, protection, ap-opcode, stack-overflow' '' \
  -- "$program" "$model" "$tokenizer" fault=garbage < /dev/null
check tiny-temperature 0 '\[gen\] steps=20 temp=0.00' 'is not a number' \
  -- "$program" "$model" "$tokenizer" temp=0.000000000000001 steps=20 < /dev/null

# No model: the usage line names every mode the command line accepts (app/options.cpp).
modes="$(sed -n 's/.*modes\[\] = { \(.*\) };/\1/p' "$root/app/options.cpp" | tr -d ' "' | tr ',' '|')"
[ -n "$modes" ] || { echo "FAIL: no modes list found in app/options.cpp"; failures=$((failures + 1)); }
check usage-names-every-mode 2 "mode=${modes//|/\\|}( |\$)" '' -- "$program"

# The summary counts a one-token prompt in the singular, and does not claim that prompt
# plus generated tokens add up to the positions (the last generated token is never run).
check summary-one-prompt-token 0 '^\[gen\] 1 prompt token, 20 generated, 20 positions in ' '' \
  -- "$program" "$model" "$tokenizer" prompt= temp=0 steps=20 < /dev/null

# A tune= plan that leaves out operations the model runs (an older build's plan, a
# hand-written one) says which run the scalar reference; a plan naming them all does not.
check tune-plan-names-what-it-leaves-out 0 'note: the plan does not name rmsnorm, softmax, attention, swiglu, which this model runs' '' \
  -- "$program" "$model" "$tokenizer" temp=0 steps=10 tune=matmul:scalar < /dev/null
check tune-plan-naming-everything 0 '^\[tune\] plan .*tune=matmul:scalar' 'does not name' \
  -- "$program" "$model" "$tokenizer" temp=0 steps=10 tune=matmul:scalar,rmsnorm:scalar,softmax:scalar,attention:scalar,swiglu:scalar < /dev/null

# A model of 200,000 positions in a heap too small for even 64 of them: one clear line,
# where prompts are read (a story's cache holds only its steps, and fits).
"$make_checkpoint" --dim 64 --hidden 172 --layers 5 --heads 8 --kv-heads 4 --vocab 512 --seq-len 200000 -o "$work/big-context.bin" > /dev/null
check context-too-small-for-the-memory 1 '^\[error\] memory: [0-9]+ MiB free, less [0-9]+ MiB kept for the rest of the run, holds a KV cache of [0-9]+ positions, fewer than 64' '' \
  -- env BAREFLOW_HEAP_MIB=24 "$program" "$work/big-context.bin" "$tokenizer" mode=interactive < /dev/null
check story-in-a-small-heap 0 '^\[gen\] [0-9]+ prompt tokens, [0-9]+ generated' '' \
  -- env BAREFLOW_HEAP_MIB=24 "$program" "$work/big-context.bin" "$tokenizer" temp=0 < /dev/null

[ $failures -eq 0 ] || exit 1
