#!/usr/bin/env bash
# Regenerates the README's pictures of what a person sees: GRUB's menu, and the screen at
# the end of a story on a BIOS boot (VGA text) and a UEFI boot (framebuffer). Boots the ISO
# headless in QEMU with the default model and takes QEMU's screendump as PNG.
#   scripts/screenshots.sh [-o DIR]   (default: iso/screenshots)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/iso/screenshots"
while [ $# -gt 0 ]; do
  case "$1" in
    -o) out="${2:?}"; shift 2 ;;
    *) sed -n '2,5p' "$0"; exit 2 ;;
  esac
done
. "$root/scripts/models.sh"
model="$(find_model stories260K.bin)" && tokenizer="$(find_model tok512.bin)" || exit 1
[ -f "$root/build/bareflow.elf" ] || "$root/scripts/build.sh" "$root/build" >/dev/null
work="$(mktemp -d)"
trap 'pkill -f "$work/" 2>/dev/null || true; rm -rf "$work"' EXIT
mkdir -p "$out"

# The menu waits long enough to be photographed, then Enter boots the first entry.
"$root/scripts/mkiso.sh" -o "$work/shots.iso" --model "$model" --tokenizer "$tokenizer" \
  --cmdline 'prompt="Once upon a time" temp=0 steps=200' --menu-timeout 30 >/dev/null

wait_for() { # pattern file seconds
  for _ in $(seq 1 $(($3 * 5))); do
    grep -aq -- "$1" "$2" 2>/dev/null && return 0
    sleep 0.2
  done
  echo "screenshots: no '$1' in $2 after $3 s" >&2
  return 1
}

# boot NAME [boot.sh options]: boots in the background; the monitor is $work/NAME.sock.
boot() {
  local name="$1"; shift
  "$root/scripts/boot.sh" "$work/shots.iso" --stay --timeout 180 --serial-file "$work/$name.log" \
    --monitor "$work/$name.sock" "$@" > /dev/null 2>&1 &
}
shot() { "$root/scripts/qemu_screen.py" "$work/$1.sock" shot "$out/$2"; echo "screenshots: $out/$2"; }
quit() { "$root/scripts/qemu_screen.py" "$work/$1.sock" send quit > /dev/null; wait || true; }

boot bios
wait_for "tell a story" "$work/bios.log" 60
sleep 1 # let the menu finish drawing
shot bios grub-menu.png
"$root/scripts/qemu_screen.py" "$work/bios.sock" send sendkey ret > /dev/null
wait_for "safe to turn the machine off" "$work/bios.log" 120
shot bios bios-story.png
quit bios

boot uefi --uefi
wait_for "tell a story" "$work/uefi.log" 90
"$root/scripts/qemu_screen.py" "$work/uefi.sock" send sendkey ret > /dev/null
wait_for "safe to turn the machine off" "$work/uefi.log" 120
shot uefi uefi-story.png
quit uefi
