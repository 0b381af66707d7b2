#!/usr/bin/env bash
# A model in Qwen2's file layout (architecture qwen2: biases on the query, key and value
# projections, RoPE over each head's halves, Qwen2's word cutting; random weights from
# bareflow-convert-gguf): the prompt read in batches and token by token gives the same
# story, the i686 program too, and the biases count (zeroed, the story changes).
#   qwen2_test.sh CONVERT_TOOL HOST_PROGRAM HOST_PROGRAM_I686
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
convert="$1" program="$2" program_i686="$3"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
status=0
fail() { echo "FAIL: $*"; status=1; }

"$convert" --random qwen2-mini byte-level "$work/model.gguf" --type q8_0 > /dev/null || { echo "FAIL: no model"; exit 1; }
# The same file with every bias zero.
python3 - "$work/model.gguf" "$work/unbiased.gguf" <<'PY'
import struct, sys
data = bytearray(open(sys.argv[1], "rb").read())
at = 24
def string():
    global at
    (n,) = struct.unpack_from("<Q", data, at); at += 8 + n
    return bytes(data[at - n:at]).decode()
sizes = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
def skip(kind):
    global at
    if kind == 8:
        string()
    elif kind == 9:
        element, count = struct.unpack_from("<IQ", data, at); at += 12
        for _ in range(count):
            skip(element)
    else:
        at += sizes[kind]
tensors, pairs = struct.unpack_from("<QQ", data, 8)
for _ in range(pairs):
    string(); (kind,) = struct.unpack_from("<I", data, at); at += 4; skip(kind)
biases = []
for _ in range(tensors):
    name = string(); (dims,) = struct.unpack_from("<I", data, at); at += 4
    shape = struct.unpack_from("<%dQ" % dims, data, at); at += 8 * dims
    kind, offset = struct.unpack_from("<IQ", data, at); at += 12
    if name.endswith(".bias"):
        biases.append((offset, 4 * shape[0]))
start = (at + 31) // 32 * 32
for offset, size in biases:
    data[start + offset:start + offset + size] = bytes(size)
open(sys.argv[2], "wb").write(data)
print(f"{len(biases)} biases zeroed")
PY
prompt="Hello there, the little girl named Lily ran to the park"
story() { # program model [key=value ...]
  local run="$1" model="$2"; shift 2
  $run "$model" /dev/null "prompt=$prompt" temp=0 steps=40 tune=off "$@" 2>&1 | grep -a -e "^$prompt" -e '^\[model\] GGUF qwen2' -e '^\[error\]'
}
batched="$(story "$program" "$work/model.gguf")"
one_by_one="$(story "$program" "$work/model.gguf" batch=1)"
unbiased="$(story "$program" "$work/unbiased.gguf")"
if ! grep -q '^\[model\] GGUF qwen2: dim 256' <<< "$batched" || ! grep -a -q "^$prompt" <<< "$batched"; then
  echo "$batched"; fail "the qwen2 model did not tell a story"
elif [ "$batched" != "$one_by_one" ]; then
  diff <(echo "$batched") <(echo "$one_by_one"); fail "the prompt in batches and token by token give different stories"
elif [ "$batched" = "$unbiased" ]; then
  fail "zeroing the biases changes nothing: they are not applied"
else
  echo "PASS: qwen2: the same story with the prompt in batches and token by token; the biases count"
fi
if i686="$(story "$root/scripts/run-i686.sh $program_i686" "$work/model.gguf")" && [ -n "$i686" ]; then
  [ "$i686" = "$batched" ] && echo "PASS: the i686 program tells the same story" || { diff <(echo "$batched") <(echo "$i686"); fail "the i686 story differs"; }
else
  echo "(the i686 program cannot run here: left out)"
fi
printf 'Hello there\nexit\n' | timeout 60 "$program" "$work/model.gguf" /dev/null mode=chat temp=0.8 seed=7 steps=96 tune=off > "$work/chat.log" 2>&1
if grep -a -q "^\[chat\] turns are rendered from the model.s chat template (ChatML markers should it fail)" "$work/chat.log" && grep -a -q '^\[chat\] read ' "$work/chat.log"; then
  echo "PASS: a ChatML chat with the qwen2 model"
else
  cat "$work/chat.log"; fail "the qwen2 chat did not go as it should"
fi
exit $status
