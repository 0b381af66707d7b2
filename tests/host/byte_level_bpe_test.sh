#!/usr/bin/env bash
# A model in SmolLM's file layout (byte-level BPE vocabulary, pre-tokenizer smollm, shared
# classifier, ChatML template; random weights from bareflow-convert-gguf): the prompt comes
# back whole, non-ASCII characters split over byte tokens included, without a BOS before
# it; the i686 program prints the same story; a chat in ChatML answers three messages (a
# random model fills the context: /reset, then /system, between them).
#   byte_level_bpe_test.sh CONVERT_TOOL HOST_PROGRAM HOST_PROGRAM_I686
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
convert="$1" program="$2" program_i686="$3"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
status=0
fail() { echo "FAIL: $*"; status=1; }

"$convert" --random mini byte-level "$work/model.gguf" --type q8_0 > /dev/null || { echo "FAIL: no model"; exit 1; }
prompt="Hello there, 42 ½ né"
timeout 60 "$program" "$work/model.gguf" /dev/null "prompt=$prompt" temp=0 steps=40 tune=off > "$work/story.log" 2>&1 || fail "the story did not end well"
if grep -a -q "^$prompt" "$work/story.log" && grep -a -q '^\[model\] GGUF llama: .*vocab 400' "$work/story.log"; then
  echo "PASS: the byte-level model echoes its prompt whole, ½ and é included"
else
  cat "$work/story.log"; fail "the prompt did not come back whole"
fi
# The same prompt's tokens as the kernel's code counts them: 32-bit build, same story.
if "$root/scripts/run-i686.sh" "$program_i686" "$work/model.gguf" /dev/null "prompt=$prompt" temp=0 steps=40 tune=off > "$work/story-i686.log" 2>&1; then
  if [ "$(sed -n "/^$prompt/p" "$work/story.log")" = "$(sed -n "/^$prompt/p" "$work/story-i686.log")" ]; then
    echo "PASS: the i686 program tells the same story"
  else
    fail "the i686 program's story differs"; diff <(grep -a "^$prompt" "$work/story.log") <(grep -a "^$prompt" "$work/story-i686.log")
  fi
else
  echo "(the i686 program cannot run here: left out)"
fi

printf 'Hello there\n/reset\nWhat is two and two?\n/system You are a pirate.\nAhoy\nexit\n' \
  | timeout 60 "$program" "$work/model.gguf" /dev/null mode=chat temp=0.8 seed=7 steps=96 tune=off > "$work/chat.log" 2>&1 || fail "the chat did not end well"
if grep -a -q "^\[chat\] turns are rendered from the model's chat template (ChatML markers should it fail)" "$work/chat.log" \
   && [ "$(grep -a -c '^\[chat\] read ' "$work/chat.log")" = 3 ] && grep -a -q '^\[chat\] bye' "$work/chat.log" \
   && grep -a -q '^\[chat\] started over with the system message "You are a pirate."' "$work/chat.log"; then
  echo "PASS: a ChatML chat with the byte-level model answers every message, /system starting it over"
else
  cat "$work/chat.log"; fail "the ChatML chat did not go as it should"
fi
exit $status
