#!/usr/bin/env bash
# What a person sees at the end of a story: the screen must show the header, the story's
# first words and the summary, and none of the machine-readable lines (JSON, the profiler
# table), which stay on the serial port. The screen is read back as text:
#   vga-text          a BIOS boot's VGA text screen, drawn by QEMU as text in a detached
#                     80x25 tmux pane (-display curses)
#   uefi-framebuffer  a UEFI boot's framebuffer, from QEMU's screendump, its 8x16 cells
#                     matched against the kernel's font (scripts/framebuffer_text.py)
#   uefi-2560x1440    the same at 2560x1440 (GRUB told so, as on a laptop whose firmware
#                     offers only its panel's mode): 320 cells across would be too many,
#                     so the font is drawn 2x2, 160x45 characters
#   bios-vbe          a BIOS boot's VBE framebuffer (GRUB told so: mkiso --bios-mode)
#   above-4g          the same screen drawn into RAM above 4 GiB (screen_test=above-4g,
#                     two cores, 5 GiB), read from there with the monitor's pmemsave: the
#                     paging window a framebuffer above 4 GiB gets, on both cores
#   screen_test.sh KERNEL [vga-text|uefi-framebuffer|uefi-2560x1440|bios-vbe|above-4g]
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
kernel="$1"
mode="${2:-vga-text}"
. "$root/scripts/models.sh"
model="$(find_model stories260K.bin)" && tokenizer="$(find_model tok512.bin)" || exit 1
logs="$(dirname "$kernel")/boot-logs"
mkdir -p "$logs"
work="$(mktemp -d)"
session="bareflow-screen-$$"
trap 'tmux kill-session -t "$session" 2>/dev/null; rm -rf "$work"' EXIT
story='prompt="Once upon a time" temp=0 steps=200'
iso_options=()
boot=("$root/scripts/boot.sh" "$work/test.iso" --stay --timeout 150 --serial-file "$work/serial.log" --monitor "$work/monitor.sock")
case "$mode" in
  vga-text)
    command -v tmux >/dev/null || { echo "SKIP: tmux missing (scripts/install-deps.sh installs it)"; exit 77; } ;;
  uefi-framebuffer) boot+=(--uefi) ;;
  uefi-2560x1440) boot+=(--uefi); iso_options=(--uefi-mode 2560x1440) ;;
  bios-vbe) iso_options=(--bios-mode 1024x768) ;;
  above-4g) boot+=(--uefi --mem 5120 --smp 2); story="$story screen_test=above-4g" ;;
  *) echo "screen_test: unknown mode $mode" >&2; exit 2 ;;
esac
"$root/scripts/mkiso.sh" -o "$work/test.iso" --kernel "$kernel" --model "$model" --tokenizer "$tokenizer" \
  --cmdline "$story" --menu-timeout 0 "${iso_options[@]}" >/dev/null || exit 1

if [ "$mode" = vga-text ]; then
  printf -v command '%q ' "${boot[@]}" --curses
  tmux new-session -d -s "$session" -x 80 -y 25 "$command"
else
  "${boot[@]}" > /dev/null 2>&1 &
fi
for _ in $(seq 1 700); do
  grep -aq "safe to turn the machine off" "$work/serial.log" 2>/dev/null && break
  sleep 0.2
done
screen="$logs/screen-$mode.screen.txt"
monitor() { "$root/scripts/qemu_screen.py" "$work/monitor.sock" "$@"; }
case "$mode" in
  vga-text)
    sleep 0.5 # the curses display refreshes on a timer
    tmux capture-pane -p -t "$session" > "$screen" ;;
  uefi-framebuffer|uefi-2560x1440|bios-vbe)
    monitor send "screendump \"$work/screen.ppm\"" > /dev/null
    for _ in $(seq 1 50); do [ -s "$work/screen.ppm" ] && break; sleep 0.1; done
    sleep 0.2
    "$root/scripts/framebuffer_text.py" ppm "$work/screen.ppm" > "$screen" ;;
  above-4g)
    # Where the kernel says it draws, and the screen's geometry, from its boot log.
    geometry="$(grep -aoE 'framebuffer [0-9]+x[0-9]+x32 at 0x[0-9a-f]+, pitch [0-9]+' "$work/serial.log" | head -1)"
    place="$(grep -aoE 'drawn into RAM at 0x[0-9a-f]+' "$work/serial.log" | grep -oE '0x[0-9a-f]+$')"
    read -r width height pitch < <(echo "$geometry" | sed -E 's/framebuffer ([0-9]+)x([0-9]+)x32 .*pitch ([0-9]+)/\1 \2 \3/')
    if [ -n "$place" ] && [ -n "$pitch" ]; then
      monitor send "pmemsave $place $((pitch * height)) \"$work/screen.raw\"" > /dev/null
      for _ in $(seq 1 50); do [ "$(stat -c %s "$work/screen.raw" 2>/dev/null)" = $((pitch * height)) ] && break; sleep 0.1; done
      "$root/scripts/framebuffer_text.py" raw "$work/screen.raw" "$width" "$height" "$pitch" 4 > "$screen"
    else
      echo "the boot log does not say where the screen is drawn" > "$screen"
    fi ;;
esac
monitor shot "$logs/screen-$mode.png" || true
monitor send quit > /dev/null || true
wait
cp "$work/serial.log" "$logs/screen-$mode.log"

python3 - "$mode" "$screen" "$work/serial.log" "$root/tests/golden/stories260K_greedy_200.txt" <<'PY'
import re, sys
mode = sys.argv[1]
screen = open(sys.argv[2], encoding="utf-8", errors="replace").read()
serial = open(sys.argv[3], encoding="utf-8", errors="replace").read()
golden = open(sys.argv[4], encoding="utf-8").read()
failures = []
def check(ok, what):
    if not ok:
        failures.append(what)
# The screen wraps at word boundaries: compare its words, not its lines.
words = " ".join(screen.split())
first_words = " ".join(golden.split()[:12])
cores = "2 cores" if mode == "above-4g" else "1 core"
check(re.search(r"^BareFlow \| llama2\.c fp32 0\.26M params \| matmul:\S+ \| " + cores, screen, re.M), "screen lacks the header line")
check(first_words in words, f"screen lacks the story's first words: {first_words!r}")
check(re.search(r"\[gen\] [0-9.]+ tok/s, time to first token", screen), "screen lacks the tok/s summary")
check('{"' not in screen, "screen shows JSON")
check("[prof]" not in screen, "screen shows the profiler table")
if mode == "vga-text":
    check(all(len(line) <= 80 for line in screen.splitlines()), "screen has a line over 80 columns")
if mode in ("uefi-framebuffer", "uefi-2560x1440", "bios-vbe"):
    check(re.search(r"\[screen\] write-combining through PAE paging: 0x[0-9a-f]+-0x[0-9a-f]+, [0-9]+ pages of 2 MiB", serial),
          "serial lacks the write-combining line")
if mode == "uefi-2560x1440":
    check(re.search(r"\[screen\] framebuffer 2560x1440x32 at 0x[0-9a-f]+, pitch 10240: 160x45 characters, the font drawn 2x2", serial),
          "serial lacks the 2560x1440 screen's line")
if mode == "above-4g":
    check(re.search(r"\[screen\] seen through PAE paging: 0x1[0-9a-f]{8}-0x[0-9a-f]+ \(above 4 GiB\) at 0x[0-9a-f]+", serial),
          "serial lacks the paging window's line")
    # Both cores page (CR0.PG, CR4.PAE), so either may draw on the screen (a fault report).
    for core in (0, 1):
        m = re.search(rf"\[smp\] core {core}: cr0=(0x[0-9a-f]+) cr4=(0x[0-9a-f]+)", serial)
        check(m and int(m.group(1), 16) >> 31 and int(m.group(2), 16) & 0x20, f"core {core} does not page")
check('{"generation":' in serial and '{"profile":' in serial, "serial lacks the JSON lines")
prof = [l.rstrip("\r") for l in serial.splitlines() if l.startswith("[prof]")]
check(len(prof) > 3, "serial lacks the profiler table")
check(all(len(l) <= 80 for l in prof), "a profiler line is wider than 80 columns")
if failures:
    print("FAIL: " + "; ".join(failures))
    print("---- screen ----")
    print(screen)
    sys.exit(1)
print(f"PASS ({mode}): the screen shows the header, the story and the summary; JSON and the table are on serial only")
PY
