#!/usr/bin/env bash
# mode=chat with the prompt's template text in batches: every reply (the first, and later
# turns whose batches start past position 0) is the one token-by-token processing gives,
# on a random-weight GGUF in TinyLlama-Chat's Q4_K_M layout, sampled (temp 0.8).
#   chat_batch_test.sh CONVERT_TOOL HOST_PROGRAM
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
convert="$1" program="$2"
. "$root/scripts/models.sh"
vocabulary="$(find_model tokenizer.bin)" || { echo "SKIP: tokenizer.bin not in '$(models_folder)' (set BAREFLOW_MODELS)"; exit 77; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$convert" --random mini "$vocabulary" "$work/model.gguf" --type q4_k_m >/dev/null || exit 1
printf 'Hello there\nTell me about the little dog that lived in the big red house by the sea\n/reset\nWhat is two and two?\nexit\n' > "$work/input.txt"
for batch in 1 4 32; do
  timeout 300 "$program" "$work/model.gguf" /dev/null mode=chat temp=0.8 seed=7 tune=off batch=$batch < "$work/input.txt" > "$work/chat-$batch.log" 2>&1 \
    || { cat "$work/chat-$batch.log"; echo "FAIL: the chat with batch=$batch did not end well"; exit 1; }
  # The conversation, from the chat's first line on (the settings line names the batch),
  # less each turn's timing line; those lines, with their times blanked, apart.
  sed -n '/^\[chat\]/,$p' "$work/chat-$batch.log" | grep -v '^\[chat\] read ' > "$work/conversation-$batch.txt"
  grep '^\[chat\] read ' "$work/chat-$batch.log" | sed -E 's/[0-9]+\.[0-9]+/T/g' > "$work/timings-$batch.txt"
done
[ "$(grep -c '^assistant> ' "$work/conversation-1.txt")" -ge 3 ] || { cat "$work/chat-1.log"; echo "FAIL: fewer than three replies"; exit 1; }
status=0
# A timing line after each turn whose message went into the cache (here the first, and the
# one after /reset: the second message finds the context full), naming the batch size; the
# token counts are the same whatever the batch (times blanked, only 'batches of N' differ).
for batch in 1 4 32; do
  lines="$(wc -l < "$work/timings-$batch.txt")"
  good="$(grep -c "^\[chat\] read [0-9]* tokens in T s (T tok/s, batches of $batch); first reply token after T s; [0-9]* reply tokens at T tok/s\$" "$work/timings-$batch.txt")"
  if [ "$lines" -eq 2 ] && [ "$good" -eq 2 ]; then
    echo "PASS: batch=$batch reports both turns"
  else
    echo "FAIL: batch=$batch printed $good well-formed timing lines of $lines, for 2 turns:"; cat "$work/timings-$batch.txt"; status=1
  fi
  if ! diff <(sed 's/batches of [0-9]*/batches of B/' "$work/timings-1.txt") <(sed 's/batches of [0-9]*/batches of B/' "$work/timings-$batch.txt"); then
    echo "FAIL: batch=$batch turns read or wrote other token counts than batch=1's"; status=1
  fi
done
for batch in 4 32; do
  if cmp -s "$work/conversation-1.txt" "$work/conversation-$batch.txt"; then
    echo "PASS: batch=$batch gives token-by-token's replies"
  else
    echo "FAIL: batch=$batch replies differ:"; diff "$work/conversation-1.txt" "$work/conversation-$batch.txt"; status=1
  fi
done
# steps=N caps the conversation: a 48-position chat fills up after the first reply's few
# tokens and says so, with the cap as the context.
printf 'Hello there\nexit\n' | timeout 300 "$program" "$work/model.gguf" /dev/null mode=chat temp=0.8 seed=7 tune=off steps=48 > "$work/chat-steps.log" 2>&1
if grep -q 'the context is full (48 of 48 positions)' "$work/chat-steps.log" && grep -q '^\[chat\] read [0-9]* tokens' "$work/chat-steps.log"; then
  echo "PASS: steps=48 caps the conversation at 48 positions"
else
  cat "$work/chat-steps.log"; echo "FAIL: steps=48 did not cap the conversation"; status=1
fi
exit $status
