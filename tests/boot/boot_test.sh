#!/usr/bin/env bash
# One boot test: builds an ISO, boots it headless in QEMU (always under a timeout), keeps
# the serial log, and judges the run by the exit device's status and the log's lines.
#   boot_test.sh --name NAME --kernel ELF --expect-status success|failure|ended
#                [--expect REGEX]... [--reject REGEX]... [--expect-file FILE]
#                [--models] [--model-variant V] [--tokenizer-variant V] [--make-checkpoint TOOL]
#                [--iso-arg ARG]... [--iso-cmdline-file FILE] [--cmdline-file FILE]
#                [--stdin FILE | --keys FILE] [--prompt TEXT] -- [scripts/boot.sh options]
# --expect-status ended: QEMU ended by itself without the exit device's report (boot.sh
# status 3), as a power-off does when boot.sh runs with --no-exit-device.
# --iso-cmdline-file / --cmdline-file: the menu entry's command line / the one boot.sh
# passes through fw_cfg, read from FILE (for lines too long to write in meson.build).
# --stdin types the file's lines on the serial line, each once the kernel's n-th TEXT
# prompt (default "prompt> ") has appeared; --keys types them on the keyboard the same way
# (QEMU's monitor sendkey: to the USB keyboard of boot.sh --usb-keyboard where there is one).
# A --keys line "@monitor COMMAND" is given to QEMU's monitor instead, once the prompt the
# next line goes to is there (device_add: a keyboard plugged in at the prompt); in a typed
# line, {NAME} presses QEMU's key NAME ({left}, {up}, {ctrl-c}: scripts/qemu_screen.py).
# --models puts stories260K.bin + tok512.bin on the ISO (scripts/models.sh finds them: the
# models folder, else the copies shipped in app/default_model/); a variant that needs a file
# that is not shipped is skipped (exit 77) with a message saying why when it is missing.
# Broken inputs for the bad-input tests, made from those files:
#   --model-variant none|empty|truncated|garbage|zero-dim|int8|nan-weights|context16|big-context|wide-vocab|
#                   larger-than-memory (~100 MB, for --mem 64)|
#                   gguf-f32|gguf-q8|gguf-truncated|gguf-TYPE (GGUFs from --convert-gguf TOOL; TYPE
#                   any of its --type names, e.g. gguf-q5_k_m)
#                   gguf-mini-q4km (random weights in a Q4_K_M TinyLlama-Chat layout),
#                   gguf-mini-macro-template (the same with tests/boot/macro_template.jinja)
#   --tokenizer-variant none|mismatched (the 32000-token tokenizer.bin with a 512 model)
# --expect-file: the log must contain that file's text verbatim.
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"

name="" kernel="" expect_status="success" with_models=0 stdin_file=/dev/null keys_file=""
model_variant="" tokenizer_variant="" make_checkpoint="" convert_gguf="" prompt_text="prompt> "
expects=() rejects=() expect_files=() iso_args=() boot_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --name) name="$2"; shift 2 ;;
    --kernel) kernel="$2"; shift 2 ;;
    --expect-status) expect_status="$2"; shift 2 ;;
    --expect) expects+=("$2"); shift 2 ;;
    --reject) rejects+=("$2"); shift 2 ;;
    --expect-file) expect_files+=("$2"); shift 2 ;;
    --models) with_models=1; shift ;;
    --model-variant) model_variant="$2"; shift 2 ;;
    --tokenizer-variant) tokenizer_variant="$2"; shift 2 ;;
    --make-checkpoint) make_checkpoint="$2"; shift 2 ;;
    --convert-gguf) convert_gguf="$2"; shift 2 ;;
    --iso-arg) iso_args+=("$2"); shift 2 ;;
    --iso-cmdline-file) iso_args+=(--cmdline "$(cat "$2")"); shift 2 ;;
    --cmdline-file) boot_args+=(--cmdline "$(cat "$2")"); shift 2 ;;
    --stdin) stdin_file="$2"; shift 2 ;;
    --keys) keys_file="$2"; shift 2 ;;
    --prompt) prompt_text="$2"; shift 2 ;;
    --) shift; break ;;
    *) echo "boot_test: unknown argument $1" >&2; exit 2 ;;
  esac
done

logs="$(dirname "$kernel")/boot-logs"
mkdir -p "$logs"
log="$logs/$name.log"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

if [ "$with_models" -eq 1 ]; then
  . "$root/scripts/models.sh"
  base_model="$(find_model stories260K.bin)" && base_tokenizer="$(find_model tok512.bin)" || exit 1
  model="$base_model" tokenizer="$base_tokenizer"
  # Optional files (not shipped) skip the test when absent.
  optional() { find_model "$1" || { echo "SKIP: $1 not found in '$(models_folder)' (set BAREFLOW_MODELS)" >&2; exit 77; }; }
  case "$model_variant" in
    "") ;;
    none) model="" ;;
    empty) : > "$work/model.bin"; model="$work/model.bin" ;;
    larger-than-memory) # ~100 MB of random weights: more than a 64 MiB guest can hold
      "$make_checkpoint" --dim 512 --hidden 1376 --layers 8 --heads 8 --kv-heads 8 --vocab 512 --seq-len 256 -o "$work/model.bin" >/dev/null
      model="$work/model.bin" ;;
    truncated) head -c 500000 "$base_model" > "$work/model.bin"; model="$work/model.bin" ;;
    garbage) head -c 300000 /dev/urandom > "$work/model.bin"; model="$work/model.bin" ;;
    zero-dim) { printf '\0\0\0\0'; tail -c +5 "$base_model"; } > "$work/model.bin"; model="$work/model.bin" ;;
    int8) model="$(optional stories260K_q80.bin)" || exit 77 ;;
    nan-weights) # stories260K's header, every weight 0xffffffff (a NaN)
      { head -c 28 "$base_model"; head -c $(( $(stat -c %s "$base_model") - 28 )) /dev/zero | tr '\0' '\377'; } > "$work/model.bin"
      model="$work/model.bin" ;;
    context16) "$make_checkpoint" --dim 64 --hidden 172 --layers 5 --heads 8 --kv-heads 4 --vocab 512 --seq-len 16 -o "$work/model.bin" >/dev/null
               model="$work/model.bin" ;;
    big-context) "$make_checkpoint" --dim 64 --hidden 172 --layers 5 --heads 8 --kv-heads 4 --vocab 512 --seq-len 200000 -o "$work/model.bin" >/dev/null
                 model="$work/model.bin" ;;
    gguf-f32|gguf-q8|gguf-truncated)
      type=f32; [ "$model_variant" = gguf-q8 ] && type=q8_0
      "$convert_gguf" "$base_model" "$base_tokenizer" "$work/model.gguf" --type $type >/dev/null || exit 1
      model="$work/model.gguf" tokenizer=""
      if [ "$model_variant" = gguf-truncated ]; then head -c 600000 "$work/model.gguf" > "$work/cut.gguf"; model="$work/cut.gguf"; fi ;;
    gguf-q[0-9]*) # stories260K in another of convert_gguf's types (gguf-q5_k_m ...)
      "$convert_gguf" "$base_model" "$base_tokenizer" "$work/model.gguf" --type "${model_variant#gguf-}" >/dev/null || exit 1
      model="$work/model.gguf" tokenizer="" ;;
    wide-vocab) # random weights, 32000 tokens of 64 values: a classifier greedy decoding screens
      tokenizer="$(optional tokenizer.bin)" || exit 77
      "$make_checkpoint" --dim 64 --hidden 176 --layers 2 --heads 8 --kv-heads 4 --vocab 32000 --seq-len 128 -o "$work/model.bin" >/dev/null
      model="$work/model.bin" ;;
    gguf-mini-q4km) # random weights, TinyLlama-1.1B-Chat's file layout and metadata, small
      vocabulary="$(optional tokenizer.bin)" || exit 77
      "$convert_gguf" --random mini "$vocabulary" "$work/model.gguf" --type q4_k_m >/dev/null || exit 1
      model="$work/model.gguf" tokenizer="" ;;
    gguf-mini-macro-template) # gguf-mini-q4km with a template of namespaces, a macro and list filters
      vocabulary="$(optional tokenizer.bin)" || exit 77
      "$convert_gguf" --random mini "$vocabulary" "$work/model.gguf" --type q4_k_m \
        --chat-template "$(dirname "$0")/macro_template.jinja" >/dev/null || exit 1
      model="$work/model.gguf" tokenizer="" ;;
    gguf-mini-bpe) # random weights, SmolLM's file layout: a byte-level BPE vocabulary made by the tool
      "$convert_gguf" --random mini byte-level "$work/model.gguf" --type q8_0 >/dev/null || exit 1
      model="$work/model.gguf" tokenizer="" ;;
    gguf-qwen2-mini) # random weights, Qwen2's file layout (biases, RoPE over halves, qwen2 word cutting)
      "$convert_gguf" --random qwen2-mini byte-level "$work/model.gguf" --type q8_0 >/dev/null || exit 1
      model="$work/model.gguf" tokenizer="" ;;
    *) echo "boot_test: unknown model variant $model_variant" >&2; exit 2 ;;
  esac
  case "$tokenizer_variant" in
    "") ;;
    none) tokenizer="" ;;
    mismatched) tokenizer="$(optional tokenizer.bin)" || exit 77 ;;
    *) echo "boot_test: unknown tokenizer variant $tokenizer_variant" >&2; exit 2 ;;
  esac
  for f in "$model" "$tokenizer"; do
    [ -z "$f" ] || [ -f "$f" ] || { echo "SKIP: $f not found"; exit 77; }
  done
  [ -z "$model" ] || iso_args+=(--model "$model")
  [ -z "$tokenizer" ] || iso_args+=(--tokenizer "$tokenizer")
fi

"$root/scripts/mkiso.sh" -o "$work/test.iso" --kernel "$kernel" --menu-timeout 0 "${iso_args[@]}" || exit 1
if [ -n "$keys_file" ]; then stdin_file="$keys_file"; boot_args+=(--monitor "$work/monitor.sock"); fi
if [ "$stdin_file" = /dev/null ]; then
  "$root/scripts/boot.sh" "$work/test.iso" "$@" "${boot_args[@]}" < /dev/null > "$log" 2>&1
  status=$?
else
  # Type each input line only once the kernel shows its n-th "prompt> ", as a person
  # would: keys sent earlier could reach GRUB's menu instead of BareFlow.
  : > "$log"
  mkfifo "$work/keyboard"
  (
    exec 3> "$work/keyboard"
    n=0
    while IFS= read -r line; do
      monitor_command=""
      [ -n "$keys_file" ] && [ "${line#@monitor }" != "$line" ] && monitor_command="${line#@monitor }"
      if [ -z "$monitor_command" ]; then n=$((n + 1)); prompts=$n; else prompts=$((n + 1)); fi # a command: the next line's prompt
      for _ in $(seq 1 600); do
        [ "$(grep -c -- "$prompt_text" "$log")" -ge "$prompts" ] && break
        [ -f "$work/boot-done" ] && break
        sleep 0.2
      done
      [ -f "$work/boot-done" ] && break # nothing left to type to
      if [ -n "$monitor_command" ]; then
        python3 "$root/scripts/qemu_screen.py" "$work/monitor.sock" send "$monitor_command" > /dev/null
        sleep 2 # for the kernel to see the device and set it up
      elif [ -n "$keys_file" ]; then
        python3 "$root/scripts/qemu_screen.py" "$work/monitor.sock" type "$line"
      else
        printf '%s\n' "$line" >&3
      fi
    done < "$stdin_file"
    # Keep the line open (no end-of-input) until the boot is over.
    until [ -f "$work/boot-done" ]; do sleep 0.2; done
  ) &
  feeder=$!
  "$root/scripts/boot.sh" "$work/test.iso" "$@" "${boot_args[@]}" < "$work/keyboard" > "$log" 2>&1
  status=$?
  touch "$work/boot-done"
  wait "$feeder" 2>/dev/null
fi
# GRUB's menu drawing leaves terminal escapes in the log: strip them for matching.
sed -e 's/\x1b\[[0-9;?]*[A-Za-z]//g' -e 's/\r$//' "$log" > "$work/clean.log"

failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
case "$expect_status" in
  success) [ $status -eq 0 ] || fail "expected the kernel to report success, boot.sh exited $status" ;;
  failure) [ $status -eq 1 ] || fail "expected the kernel to report failure (boot.sh status 1), got $status" ;;
  ended) [ $status -eq 3 ] || fail "expected QEMU to end by itself (boot.sh status 3), got $status" ;;
esac
. "$root/tests/boot/log_checks.sh"
check_log "$work/clean.log"

if [ $failures -ne 0 ]; then
  echo "---- serial log ($log) ----"
  tail -n 60 "$work/clean.log"
  exit 1
fi
echo "PASS: $name (log: $log)"
