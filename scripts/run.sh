#!/usr/bin/env bash
# The main job in one command: installs what is missing, builds the kernel, picks a model,
# makes the ISO and boots it in QEMU, showing the kernel's serial output here.
#   scripts/run.sh [--display] [--model FILE --tokenizer FILE] [--cmdline "k=v ..."]
#                  [other scripts/boot.sh options: --uefi --raw --smp N --mem MiB ...]
# The model: stories15M.bin + tokenizer.bin from $BAREFLOW_MODELS or models/ when there
# (scripts/fetch-models.sh stories15M gets them), else the stories260K model shipped in
# app/default_model/, so it works offline on a fresh checkout.
# GRUB's menu drawing is left out of what you see; the raw serial log is build/run-serial.log.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
model="" tokenizer="" cmdline="" boot_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --model) model="$2"; shift 2 ;;
    --tokenizer) tokenizer="$2"; shift 2 ;;
    --cmdline) cmdline="$2"; shift 2 ;;
    *) boot_args+=("$1"); shift ;;
  esac
done

"$root/scripts/install-deps.sh"
"$root/scripts/build.sh" "$root/build"

# A shared models folder beside the checkout (as on the project's own machines) also works.
if [ -z "${BAREFLOW_MODELS:-}" ] && [ ! -d "$root/models" ] && [ -d "$root/../shared/models" ]; then
  export BAREFLOW_MODELS="$(cd "$root/../shared/models" && pwd)"
fi
. "$root/scripts/models.sh"
if [ -n "$model" ]; then
  [ -n "$tokenizer" ] || [ "$(head -c 4 "$model")" = GGUF ] || { echo "run: --model needs --tokenizer too (a GGUF file carries its own)" >&2; exit 2; }
  echo "[run] model $model (given with --model)"
elif model="$(find_model stories15M.bin)" && tokenizer="$(find_model tokenizer.bin)"; then
  echo "[run] model stories15M from $(dirname "$model") (the larger story model, found there)"
else
  model="$(find_model stories260K.bin)" && tokenizer="$(find_model tok512.bin)" || exit 1
  echo "[run] model stories260K from $(dirname "$model"): no stories15M.bin + tokenizer.bin in $(models_folder)"
  echo "[run]   (scripts/fetch-models.sh stories15M downloads the larger one, 61 MB)"
fi

iso="$root/build/bareflow.iso"
"$root/scripts/mkiso.sh" -o "$iso" --model "$model" ${tokenizer:+--tokenizer "$tokenizer"} --cmdline "$cmdline" --menu-timeout 0
raw_log="$root/build/run-serial.log"
echo "[run] booting in QEMU (raw serial log: $raw_log)"
set +e
"$root/scripts/boot.sh" "$iso" --timeout 900 "${boot_args[@]}" | tee "$raw_log" | "$root/scripts/serial_filter.py"
status=${PIPESTATUS[0]}
exit "$status"
