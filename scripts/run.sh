#!/usr/bin/env bash
# The main job in one command: installs what is missing, builds the kernel, finds (or
# downloads) a model, makes the ISO and boots it in QEMU with the serial console here.
#   scripts/run.sh [--display] [--model FILE --tokenizer FILE] [--cmdline "k=v ..."]
#                  [other scripts/boot.sh options: --uefi --raw --smp N --mem MiB ...]
# Models come from $BAREFLOW_MODELS or models/: stories15M.bin + tokenizer.bin if there,
# else stories260K.bin + tok512.bin, else scripts/fetch-models.sh downloads stories15M.
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

models="${BAREFLOW_MODELS:-$root/models}"
# A shared models folder beside the checkout (as on the project's own machines) also works.
if [ -z "${BAREFLOW_MODELS:-}" ] && [ ! -d "$models" ] && [ -d "$root/../shared/models" ]; then
  models="$(cd "$root/../shared/models" && pwd)"
fi
if [ -z "$model" ]; then
  if [ -f "$models/stories15M.bin" ] && [ -f "$models/tokenizer.bin" ]; then
    model="$models/stories15M.bin" tokenizer="$models/tokenizer.bin"
  elif [ -f "$models/stories260K.bin" ] && [ -f "$models/tok512.bin" ]; then
    model="$models/stories260K.bin" tokenizer="$models/tok512.bin"
  else
    BAREFLOW_MODELS="$models" "$root/scripts/fetch-models.sh" stories15M
    model="$models/stories15M.bin" tokenizer="$models/tokenizer.bin"
  fi
fi
[ -n "$tokenizer" ] || { echo "run: --model needs --tokenizer too" >&2; exit 2; }

iso="$root/build/bareflow.iso"
"$root/scripts/mkiso.sh" -o "$iso" --model "$model" --tokenizer "$tokenizer" --cmdline "$cmdline" --menu-timeout 1
exec "$root/scripts/boot.sh" "$iso" --timeout 900 "${boot_args[@]}"
