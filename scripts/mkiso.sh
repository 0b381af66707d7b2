#!/usr/bin/env bash
# Builds a hybrid (BIOS + UEFI, CD + USB stick) GRUB ISO around the BareFlow kernel.
#   scripts/mkiso.sh -o OUT.iso [--model FILE] [--tokenizer FILE] [--cmdline "k=v ..."]
#                    [--kernel ELF] [--menu-timeout SECONDS] [--uefi-mode WIDTHxHEIGHT]
#                    [--bios-mode WIDTHxHEIGHT]
# --uefi-mode asks GRUB for that framebuffer mode on UEFI boots instead of the kernel's
# preferred 1024x768 (a large screen, as many laptops' firmware offers only their panel's);
# --bios-mode for a VBE framebuffer on BIOS boots instead of VGA text.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

usage() { sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
die() { echo "mkiso: $*" >&2; exit 1; }

output="" model="" tokenizer="" cmdline="" menu_timeout=3 uefi_mode="" bios_mode=""
kernel="$root/build/bareflow.elf"
while [ $# -gt 0 ]; do
  case "$1" in
    -o|--output) output="${2:?}"; shift 2 ;;
    --model) model="${2:?}"; shift 2 ;;
    --tokenizer) tokenizer="${2:?}"; shift 2 ;;
    --cmdline) cmdline="${2?}"; shift 2 ;;
    --kernel) kernel="${2:?}"; shift 2 ;;
    --menu-timeout) menu_timeout="${2:?}"; shift 2 ;;
    --uefi-mode) uefi_mode="${2:?}"; shift 2 ;;
    --bios-mode) bios_mode="${2:?}"; shift 2 ;;
    -h|--help) usage ;;
    *) echo "mkiso: unknown argument '$1'" >&2; usage ;;
  esac
done
[ -n "$output" ] || usage
[ -f "$kernel" ] || die "kernel '$kernel' not found: run scripts/build.sh first"
for f in "$model" "$tokenizer"; do
  [ -z "$f" ] || [ -f "$f" ] || die "module file '$f' not found"
done
command -v grub-mkrescue >/dev/null || die "grub-mkrescue missing: run scripts/install-deps.sh"
case "$menu_timeout" in ''|*[!0-9]*) die "--menu-timeout needs whole seconds" ;; esac
mode_lines=""
for platform_mode in "efi:$uefi_mode" "pc:$bios_mode"; do
  platform="${platform_mode%%:*}" mode="${platform_mode#*:}"
  [ -n "$mode" ] || continue
  [[ "$mode" =~ ^[1-9][0-9]*x[1-9][0-9]*$ ]] || die "--uefi-mode and --bios-mode take WIDTHxHEIGHT, e.g. 2560x1440"
  mode_lines+="    if [ \"\$grub_platform\" = \"$platform\" ]; then set gfxpayload=${mode}x32; fi"$'\n'
done

staging="$(mktemp -d)"
log="$(mktemp)"
trap 'rm -rf "$staging" "$log"' EXIT
mkdir -p "$staging/boot/grub"
cp "$kernel" "$staging/boot/bareflow.elf"
modules="" record=""
if [ -n "$model" ]; then
  cp "$model" "$staging/boot/model.bin"
  modules+="    module2 --nounzip /boot/model.bin model"$'\n'
  record+=",model:$(stat -c %s "$model")"
fi
if [ -n "$tokenizer" ]; then
  cp "$tokenizer" "$staging/boot/tokenizer.bin"
  modules+="    module2 --nounzip /boot/tokenizer.bin tokenizer"$'\n'
  record+=",tokenizer:$(stat -c %s "$tokenizer")"
fi
# GRUB boots on when a module2 command fails (e.g. out of memory): the kernel learns from
# modules=NAME:BYTES,... which modules the entry meant to load, to say which one is missing.
[ -z "$record" ] || cmdline="${cmdline:+$cmdline }modules=${record#,}"

# Substitute with awk: the command line may hold characters sed would take as syntax.
awk -v timeout="$menu_timeout" -v cmdline="$cmdline" -v modules="${modules%$'\n'}" -v mode_lines="${mode_lines%$'\n'}" '
  { gsub(/@TIMEOUT@/, timeout); idx = index($0, "@CMDLINE@");
    if (idx) $0 = substr($0, 1, idx - 1) cmdline substr($0, idx + 9);
    if ($0 == "@MODULES@") { if (modules != "") print modules; next }
    if ($0 == "@MODES@") { if (mode_lines != "") print mode_lines; next }
    print }' "$root/iso/grub.cfg" > "$staging/boot/grub/grub.cfg"

mkdir -p "$(dirname "$output")"
if ! grub-mkrescue -o "$output" "$staging" >"$log" 2>&1; then
  cat "$log" >&2
  die "grub-mkrescue failed"
fi
echo "mkiso: $output ($(du -h "$output" | cut -f1)) kernel=$(basename "$kernel")${model:+ model=$model}${tokenizer:+ tokenizer=$tokenizer}"
