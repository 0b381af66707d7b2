#!/usr/bin/env bash
# A model in Qwen2's, Qwen3's, Gemma 3's, Gemma 2's, Phi-3's, Granite's, SmolLM3's, ERNIE
# 4.5's or OLMo 2's file layout (random weights from
# bareflow-convert-gguf):
#  - qwen2: biases on the query, key and value projections, RoPE over each head's halves,
#    Qwen2's word cutting;
#  - qwen3: no biases; each query and key head RMS-normalised before RoPE over halves,
#    heads wider than dim / heads (so queries wider than the residual stream);
#  - gemma3: qwen3's head norms, norms after the attention and the feed-forward, a GELU
#    gate, a scaled embedding, sliding-window attention (a 16-position window: the story
#    is longer);
#  - gemma2: gemma3's without the head norms, local and global layers in turn, soft caps on
#    the attention scores and the logits;
#  - phi3: llama's layer with RoPE over halves, the query, key and value matrices fused in
#    one, and the gate and up; LongRoPE (long factors past the original 64 positions);
#  - granite: llama's layer with multipliers on the embedding, the scores, the sublayers'
#    outputs and the logits;
#  - smollm3: llama's layer, every 4th without RoPE;
#  - ernie4_5: llama's layer, heads wider than dim / heads;
#  - olmo2: no norms before the sublayers, norms after them, the queries and the keys
#    normalised as whole vectors (the story changes with those norms' weights set to one).
# The prompt read in batches and token by token gives the same story, the i686 program
# too, the architecture's own tensors count (qwen2's biases zeroed, qwen3's head norms or
# gemma3's output norms set to one, gemma2's caps taken off, phi3's LongRoPE factors set to
# one: the story changes), and a chat goes through the ChatML
# template. The qwen3 model carries a Qwen3-shaped template (qwen3_shape.jinja): think=off
# and /think off give its generation prompt an empty thought (more tokens read), and a
# template without enable_thinking says think= changes nothing. The gemma3 model chats
# through a Gemma 3-shaped one (gemma3_shape.jinja), the gemma2 model through a Gemma
# 2-shaped one (gemma2_shape.jinja, which refuses a system message), the phi3 model through
# a Phi-3-shaped one (phi3_shape.jinja), the granite model through a Granite-shaped one
# (granite_shape.jinja); the phi3 model says which LongRoPE factors a run takes.
#   architecture_test.sh qwen2|qwen3|gemma3|gemma2|phi3|phi4|granite|smollm3|ernie4_5|olmo2 CONVERT_TOOL HOST_PROGRAM HOST_PROGRAM_I686
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
arch="$1" convert="$2" program="$3" program_i686="$4"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
status=0
fail() { echo "FAIL: $*"; status=1; }

sampling="temp=0"
file_arch="$arch" # what the file's general.architecture says
case "$arch" in
  qwen2) shape_line="dim 256, hidden 768, 2 layers, 8 heads (2 kv)"; own="the biases" ;;
  qwen3) shape_line="dim 256, hidden 768, 2 layers, 8 heads of 64 (2 kv)"; own="the heads' norms" ;;
  gemma3) shape_line="dim 256, hidden 768, 7 layers, 2 heads of 96 (1 kv)"; own="the output norms" ;;
  # Capping the logits keeps their order: greedy decoding hardly shows it; sampling does.
  gemma2) shape_line="dim 256, hidden 768, 4 layers, 4 heads (2 kv)"; own="the soft caps"; sampling="temp=0.8 seed=7" ;;
  phi3) shape_line="dim 256, hidden 768, 2 layers, 4 heads (4 kv), vocab 407"; own="LongRoPE's factors"; sampling="temp=0.8 seed=7" ;;
  # Phi-4-mini's layout: Phi-3's with RoPE on 48 of each head's 64 dimensions, a tied
  # classifier, GPT-4o's word cutting.
  phi4) file_arch=phi3; shape_line="dim 256, hidden 768, 2 layers, 4 heads (2 kv), vocab 407"; own="LongRoPE's factors"; sampling="temp=0.8 seed=7" ;;
  granite) shape_line="dim 256, hidden 768, 2 layers, 4 heads (2 kv), vocab 403"; own="the multipliers" ;;
  # SmolLM3's difference (every 4th layer without RoPE) is not in its file: host
  # architectures checks it against a plain implementation.
  smollm3) shape_line="dim 256, hidden 768, 4 layers, 4 heads (2 kv)"; own="" ;;
  ernie4_5) shape_line="dim 256, hidden 768, 2 layers, 4 heads of 128 (2 kv)"; own="" ;; # llama's layer: nothing of its own
  olmo2) shape_line="dim 256, hidden 768, 2 layers, 4 heads (4 kv)"; own="the query and key norms" ;;
  *) echo "usage: architecture_test.sh qwen2|qwen3|gemma3|gemma2|phi3|phi4|granite|smollm3|ernie4_5|olmo2 ..."; exit 2 ;;
esac
"$convert" --random "$arch-mini" byte-level "$work/model.gguf" --type q8_0 > /dev/null || { echo "FAIL: no model"; exit 1; }
# The same file without the architecture's own tensors' effect: every bias zero, every
# head norm weight one (qwen3), every output norm weight one (gemma3), no soft caps (gemma2),
# LongRoPE's factors and attention factor one (phi3), the multipliers those of llama's
# layer (granite).
python3 - "$work/model.gguf" "$work/plain.gguf" "$file_arch" <<'PY'
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
changes = []
for _ in range(pairs):
    key = string(); (kind,) = struct.unpack_from("<I", data, at); at += 4
    if sys.argv[3] == "gemma2" and key.endswith("_logit_softcapping") and kind == 6:
        struct.pack_into("<f", data, at, 0.0) # no cap
        changes.append(None)
    if sys.argv[3] == "phi3" and key.endswith("rope.scaling.attn_factor") and kind == 6:
        struct.pack_into("<f", data, at, 1.0)
    if sys.argv[3] == "granite" and key.split(".", 1)[1] in ("embedding_scale", "residual_scale", "attention.scale", "logit_scale"):
        struct.pack_into("<f", data, at, 1.0 if key.split(".", 1)[1] != "attention.scale" else 0.125) # 1 / sqrt(head width 64)
        changes.append(None)
    skip(kind)
for _ in range(tensors):
    name = string(); (dims,) = struct.unpack_from("<I", data, at); at += 4
    shape = struct.unpack_from("<%dQ" % dims, data, at); at += 8 * dims
    kind, offset = struct.unpack_from("<IQ", data, at); at += 12
    if name.endswith(".bias"):
        changes.append((offset, shape[0], 0.0))
    elif sys.argv[3] in ("qwen3", "olmo2") and (name.endswith("attn_q_norm.weight") or name.endswith("attn_k_norm.weight")):
        changes.append((offset, shape[0], 1.0))
    elif sys.argv[3] == "gemma3" and (name.endswith("post_attention_norm.weight") or name.endswith("post_ffw_norm.weight")):
        changes.append((offset, shape[0], 1.0))
    elif name.startswith("rope_factors_"):
        changes.append((offset, shape[0], 1.0))
start = (at + 31) // 32 * 32
for offset, count, value in filter(None, changes):
    data[start + offset:start + offset + 4 * count] = struct.pack("<%df" % count, *([value] * count))
open(sys.argv[2], "wb").write(data)
if not changes and sys.argv[3] not in ("smollm3", "ernie4_5"):
    sys.exit("no bias, head norm, output norm, soft cap, RoPE factor or multiplier in the file")
PY
prompt="Hello there, the little girl named Lily ran to the park"
story() { # program model [key=value ...]
  local run="$1" model="$2"; shift 2
  $run "$model" /dev/null "prompt=$prompt" $sampling steps=60 tune=off "$@" 2>&1 | grep -a -e "^$prompt" -e "^\[model\] GGUF $file_arch" -e '^\[error\]'
}
batched="$(story "$program" "$work/model.gguf")"
one_by_one="$(story "$program" "$work/model.gguf" batch=1)"
plain="$(story "$program" "$work/plain.gguf")"
if ! grep -q "^\[model\] GGUF $file_arch: $shape_line" <<< "$batched" || ! grep -a -q "^$prompt" <<< "$batched"; then
  echo "$batched"; fail "the $arch model did not tell a story"
elif [ "$batched" != "$one_by_one" ]; then
  diff <(echo "$batched") <(echo "$one_by_one"); fail "the prompt in batches and token by token give different stories"
elif [ -n "$own" ] && [ "$batched" = "$plain" ]; then
  fail "without $own the story is the same: they are not applied"
else
  echo "PASS: $arch: the same story with the prompt in batches and token by token${own:+; $own count}"
fi
if i686="$(story "$root/scripts/run-i686.sh $program_i686" "$work/model.gguf")" && [ -n "$i686" ]; then
  [ "$i686" = "$batched" ] && echo "PASS: the i686 program tells the same story" || { diff <(echo "$batched") <(echo "$i686"); fail "the i686 story differs"; }
else
  echo "(the i686 program cannot run here: left out)"
fi
printf 'Hello there\nexit\n' | timeout 60 "$program" "$work/model.gguf" /dev/null mode=chat temp=0.8 seed=7 steps=96 tune=off > "$work/chat.log" 2>&1
if grep -a -q "^\[chat\] turns are rendered from the model.s chat template (ChatML markers should it fail)" "$work/chat.log" && grep -a -q '^\[chat\] read ' "$work/chat.log"; then
  echo "PASS: a ChatML chat with the $arch model"
else
  cat "$work/chat.log"; fail "the $arch chat did not go as it should"
fi
if [ "$arch" = qwen3 ]; then
  "$convert" --random qwen3-mini byte-level "$work/thinking.gguf" --type q8_0 --chat-template "$root/tests/host/qwen3_shape.jinja" > /dev/null \
    || { echo "FAIL: no model with a Qwen3-shaped template"; exit 1; }
  chat() { # think value, typed lines
    printf "$2" | timeout 60 "$program" "$work/thinking.gguf" /dev/null mode=chat temp=0 steps=120 tune=off think="$1" 2>&1
  }
  read_tokens() { grep -a -o '^\[chat\] read [0-9]* tokens' | head -1 | grep -o '[0-9]*'; }
  auto="$(chat auto 'Hello\nexit\n')" off="$(chat off 'Hello\nexit\n')" typed="$(chat auto '/think off\nHello\nexit\n')"
  if ! grep -q '^\[chat\] the template.s reasoning switch (enable_thinking) is auto' <<< "$auto" \
    || ! grep -q '^\[chat\] the template.s reasoning switch (enable_thinking) is off' <<< "$off"; then
    echo "$auto"; echo "$off"; fail "the chat did not say how enable_thinking is set"
  elif ! [ "$(read_tokens <<< "$off")" -gt "$(read_tokens <<< "$auto")" ]; then
    echo "$auto"; echo "$off"; fail "think=off did not add the empty thought to the first turn"
  elif ! grep -q '^\[chat\] thinking off from the next message on' <<< "$typed" || [ "$(read_tokens <<< "$typed")" != "$(read_tokens <<< "$off")" ]; then
    echo "$typed"; fail "/think off did not do what think=off does"
  else
    echo "PASS: think=off and /think off give the Qwen3-shaped template's empty thought ($(read_tokens <<< "$auto") -> $(read_tokens <<< "$off") tokens read)"
  fi
  plain_chat="$(printf 'Hi\nexit\n' | timeout 60 "$program" "$work/model.gguf" /dev/null mode=chat temp=0 steps=60 tune=off think=off 2>&1)"
  if grep -q '^\[chat\] think=off changes nothing: the chat does not use a template with enable_thinking' <<< "$plain_chat"; then
    echo "PASS: think=off with a template that has no enable_thinking says it changes nothing"
  else
    echo "$plain_chat"; fail "think=off with a plain ChatML template did not say it changes nothing"
  fi
fi
if [ "$arch" = gemma2 ]; then
  described="$("$program" "$work/model.gguf" /dev/null prompt=Hi steps=4 tune=off 2>&1)"
  if grep -q '^\[model\] sliding-window attention: 1 of every 2 layers see the last 16 positions (RoPE base 10000), the others all' <<< "$described" \
    && grep -q '^\[model\] soft-capping: attention scores at 2.0, logits at 3.0' <<< "$described"; then
    echo "PASS: the sliding window and the soft caps are described"
  else
    echo "$described"; fail "no [model] lines describe the sliding window and the soft caps"
  fi
fi
if [ "$arch" = gemma3 ]; then
  described="$("$program" "$work/model.gguf" /dev/null prompt=Hi steps=4 tune=off 2>&1)"
  if grep -q '^\[model\] sliding-window attention: 5 of every 6 layers see the last 16 positions (RoPE base 10000), the others all' <<< "$described"; then
    echo "PASS: the sliding window is described"
  else
    fail "no [model] line describes the sliding window"
  fi
  # 128 positions: the local layers' caches keep 2 x 16 + 64 of them, their contents moved
  # to the start once; in batches, token by token and in the i686 program alike.
  long_batched="$(story "$program" "$work/model.gguf" steps=128)"
  long_one_by_one="$(story "$program" "$work/model.gguf" steps=128 batch=1)"
  long_i686="$(story "$root/scripts/run-i686.sh $program_i686" "$work/model.gguf" steps=128)"
  kept="$("$program" "$work/model.gguf" /dev/null prompt=Hi steps=128 tune=off 2>&1)"
  if ! grep -q '^\[model\] their KV caches keep 96 positions of the 128' <<< "$kept"; then
    fail "no [model] line says how many positions the windowed caches keep"
  elif [ "$long_batched" != "$long_one_by_one" ] || { [ -n "$long_i686" ] && [ "$long_i686" != "$long_batched" ]; }; then
    fail "past the windowed caches' length, batches, tokens and the i686 program tell different stories"
  else
    echo "PASS: the windowed caches keep 96 of 128 positions; the same long story in batches, token by token (and i686)"
  fi
fi
if [ "$arch" = smollm3 ]; then
  if grep -q '^\[model\] no position embedding in every 4th layer' <<< "$("$program" "$work/model.gguf" /dev/null prompt=Hi steps=4 tune=off 2>&1)"; then
    echo "PASS: the layers without RoPE are described"
  else
    fail "no [model] line describes the layers without RoPE"
  fi
fi
if [ "$file_arch" = phi3 ]; then
  short="$("$program" "$work/model.gguf" /dev/null prompt=Hi steps=64 tune=off 2>&1)"
  long="$("$program" "$work/model.gguf" /dev/null prompt=Hi steps=65 tune=off 2>&1)"
  if grep -q '^\[model\] LongRoPE: the short factors (64 positions in this run, the original context is 64), RoPE times 1.080' <<< "$short" \
    && grep -q '^\[model\] LongRoPE: the long factors (65 positions in this run, the original context is 64), RoPE times 1.080' <<< "$long"; then
    echo "PASS: LongRoPE's short factors up to the original context, the long ones beyond"
  else
    echo "$short"; echo "$long"; fail "no [model] line says which LongRoPE factors apply"
  fi
fi
if [ "$arch" = phi4 ]; then
  # Its own: RoPE on part of each head (host architectures compares the layer with a plain
  # implementation), LongRoPE's factors as many as the turned pairs, the embedding as the
  # classifier (no output.weight in the file).
  info="$("$program" "$work/model.gguf" /dev/null prompt=Hi steps=8 tune=off 2>&1)"
  python3 - "$work/model.gguf" "$work/whole.gguf" <<'PY'
import sys
data = bytearray(open(sys.argv[1], "rb").read())
key = b"phi3.rope.dimension_count"
at = data.index(key) + len(key) + 4 # the key, then its type (uint32), then the value
assert int.from_bytes(data[at:at + 4], "little") == 48
data[at:at + 4] = (64).to_bytes(4, "little")
open(sys.argv[2], "wb").write(data)
PY
  whole="$("$program" "$work/whole.gguf" /dev/null prompt=Hi steps=8 tune=off 2>&1)"
  # 9 matrices: the embedding and four a layer, no classifier of its own.
  if ! grep -q "^\[model\] RoPE turns the first 48 of each head's 64 dimensions" <<< "$info" || ! grep -q '^\[model\] tensors: 7 F32, 9 Q8_0$' <<< "$info"; then
    echo "$info"; fail "no [model] lines tell the partial rotary and the tied classifier"
  elif ! grep -q '^\[error\] gguf: tensor rope_factors_short.weight has shape \[24, 1\], the model needs \[32, 1\]' <<< "$whole"; then
    echo "$whole"; fail "RoPE on every dimension with factors for 48 was not refused"
  else
    echo "PASS: RoPE on 48 of each head's 64 dimensions with factors for those; a tied classifier"
  fi
fi
if [ "$arch" = gemma3 ] || [ "$arch" = gemma2 ] || [ "$arch" = phi3 ] || [ "$arch" = granite ]; then
  # Gemma 2's template refuses a system message: it opens the first user turn instead.
  "$convert" --random "$arch-mini" byte-level "$work/templated.gguf" --type q8_0 --chat-template "$root/tests/host/${arch}_shape.jinja" > /dev/null \
    || { echo "FAIL: no model with a $arch-shaped template"; exit 1; }
  # A random model's reply fills the context: /reset makes room for a second conversation.
  templated_chat="$(printf 'Hello there\n/reset\nAnd again\nexit\n' | timeout 60 "$program" "$work/templated.gguf" /dev/null mode=chat temp=0 steps=120 \
    tune=off system="Be brief." 2>&1)"
  case "$arch" in phi3) markers="Phi-3" ;; granite) markers="Granite" ;; *) markers="Gemma" ;; esac
  if grep -a -q "^\[chat\] turns are rendered from the model.s chat template ($markers markers should it fail)" <<< "$templated_chat" \
    && [ "$(grep -a -c '^\[chat\] read ' <<< "$templated_chat")" = 2 ] && ! grep -a -q 'using the built-in' <<< "$templated_chat"; then
    echo "PASS: two conversations through the $arch-shaped template"
  else
    echo "$templated_chat"; fail "the $arch chat did not go as it should"
  fi
fi
exit $status
