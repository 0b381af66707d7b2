#!/usr/bin/env bash
# The hosted program read as a terminal's keys on stdin: a prompt mended with the cursor
# keys' escape sequences and recalled with Up tells the golden story; Ctrl+C (byte 3)
# stops a story, and a chat reply, after their first token, and the run goes on; it stops
# mode=generate's story and a benchmark too.
#   line_editing_test.sh CONVERT_TOOL HOST_PROGRAM GOLDEN
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
convert="$1" program="$2" golden="$3"
. "$root/scripts/models.sh"
model="$(find_model stories260K.bin)" && tokenizer="$(find_model tok512.bin)" || { echo "FAIL: no stories260K.bin + tok512.bin"; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
status=0
fail() { echo "FAIL: $*"; status=1; }

# "Once upon a tme", Left twice, "i": "Once upon a time"; then Up and enter: the same again.
printf 'Once upon a tme\033[D\033[Di\n\033[A\nexit\n' \
  | timeout 60 "$program" "$model" "$tokenizer" mode=interactive temp=0 steps=200 > "$work/edited.log" 2>&1 || fail "the edited run did not end well"
stories="$(python3 - "$work/edited.log" "$golden" <<'PY'
import sys
print(open(sys.argv[1], errors="replace").read().count(open(sys.argv[2]).read()))
PY
)"
[ "$stories" = 2 ] && echo "PASS: the mended prompt and the recalled one tell the golden story" \
  || { cat "$work/edited.log"; fail "the golden story told $stories times, not twice"; }

# Ctrl+C is already waiting when the story begins: it stops after the first token.
printf 'Once upon a time\n\003exit\n' \
  | timeout 60 "$program" "$model" "$tokenizer" mode=interactive temp=0 steps=200 > "$work/stopped.log" 2>&1 || fail "the stopped run did not end well"
if grep -q '^\[interactive\] stopped (Ctrl+C) after 1 generated token' "$work/stopped.log" && grep -q '^\[interactive\] bye' "$work/stopped.log"; then
  echo "PASS: Ctrl+C stops a story, and the next line is read"
else
  cat "$work/stopped.log"; fail "Ctrl+C did not stop the story"
fi

# Commands at the prompt: /temp 0 makes a temp=1 run tell the golden (greedy) story; then
# /seed 42 and /temp 1 tell the story a new run with seed=42 tells.
printf '/temp 0\nOnce upon a time\n/seed 42\n/temp 1\nOnce upon a time\nexit\n' \
  | timeout 60 "$program" "$model" "$tokenizer" mode=interactive temp=1 seed=5 steps=200 > "$work/commands.log" 2>&1 || fail "the run with commands did not end well"
printf 'Once upon a time\nexit\n' \
  | timeout 60 "$program" "$model" "$tokenizer" mode=interactive seed=42 steps=200 > "$work/seed42.log" 2>&1 || fail "the seed=42 run did not end well"
seeded_story="$(grep '^Once upon a time' "$work/seed42.log")"
greedy_stories="$(python3 - "$work/commands.log" "$golden" <<'PY'
import sys
print(open(sys.argv[1], errors="replace").read().count(open(sys.argv[2]).read()))
PY
)"
if [ "$greedy_stories" = 1 ] && [ -n "$seeded_story" ] && grep -qxF -- "$seeded_story" "$work/commands.log" \
   && grep -q '^\[interactive\] temp=1.00 topp=0.90 topk=0 seed=42 steps=200$' "$work/commands.log"; then
  echo "PASS: /temp 0 tells the golden story, and /seed 42 the story seed=42 tells"
else
  cat "$work/commands.log"; fail "the prompt's commands did not change the stories as they should"
fi

# The main job's story and a benchmark stop the same way: the figures cover what was made.
for mode in generate bench; do
  printf '\003' | timeout 60 "$program" "$model" "$tokenizer" mode=$mode temp=0 steps=200 > "$work/$mode.log" 2>&1 || fail "the stopped $mode run did not end well"
  tag=gen; [ $mode = bench ] && tag=bench
  if grep -q "^\[$tag\] stopped (Ctrl+C) after 1 generated token" "$work/$mode.log" && grep -q '^\[gen\] [0-9]* prompt tokens*, 1 generated' "$work/$mode.log"; then
    echo "PASS: Ctrl+C stops mode=$mode after its first token, and its figures are reported"
  else
    cat "$work/$mode.log"; fail "Ctrl+C did not stop mode=$mode"
  fi
done

# A chat reply stopped the same way is closed, and the next message is answered.
if vocabulary="$(find_model tokenizer.bin)"; then
  "$convert" --random mini "$vocabulary" "$work/model.gguf" --type q4_k_m > /dev/null || fail "no chat model"
  printf 'Hello there\n\003/topk 5\nWhat is two and two?\nexit\n' \
    | timeout 120 "$program" "$work/model.gguf" /dev/null mode=chat temp=0.8 seed=7 tune=off > "$work/chat.log" 2>&1 || fail "the chat did not end well"
  if grep -q '^\[chat\] reply stopped (Ctrl+C)' "$work/chat.log" && [ "$(grep -c '^\[chat\] read ' "$work/chat.log")" = 2 ] \
     && grep -q '^\[chat\] read [0-9]* tokens in .* 1 reply tokens at' "$work/chat.log" && grep -q '^\[chat\] bye' "$work/chat.log" \
     && grep -q '^\[chat\] temp=0.80 topp=0.90 topk=5 seed=7$' "$work/chat.log"; then
    echo "PASS: Ctrl+C stops a chat reply after one token, /topk 5 is taken, and the next message is answered"
  else
    cat "$work/chat.log"; fail "Ctrl+C did not stop the chat reply as it should"
  fi
else
  echo "(no tokenizer.bin in '$(models_folder)': the chat part is left out)"
fi
exit $status
