#!/usr/bin/env bash
# What a person sees on a BIOS boot: QEMU draws the VGA text screen as text in a detached
# 80x25 tmux pane (-display curses); once the kernel has halted, the pane holds the final
# screen. It must show the header, the story's first words and the summary, and none of the
# machine-readable lines (JSON, the profiler table), which stay on the serial port.
#   screen_test.sh KERNEL
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
kernel="$1"
command -v tmux >/dev/null || { echo "SKIP: tmux missing (scripts/install-deps.sh installs it)"; exit 77; }
. "$root/scripts/models.sh"
model="$(find_model stories260K.bin)" && tokenizer="$(find_model tok512.bin)" || exit 1
logs="$(dirname "$kernel")/boot-logs"
mkdir -p "$logs"
work="$(mktemp -d)"
session="bareflow-screen-$$"
trap 'tmux kill-session -t "$session" 2>/dev/null; rm -rf "$work"' EXIT

"$root/scripts/mkiso.sh" -o "$work/test.iso" --kernel "$kernel" --model "$model" --tokenizer "$tokenizer" \
  --cmdline 'prompt="Once upon a time" temp=0 steps=200' --menu-timeout 0 >/dev/null || exit 1
tmux new-session -d -s "$session" -x 80 -y 25 \
  "'$root/scripts/boot.sh' '$work/test.iso' --curses --stay --timeout 120 --serial-file '$work/serial.log' --monitor '$work/monitor.sock'"
for _ in $(seq 1 500); do
  grep -aq "safe to turn the machine off" "$work/serial.log" 2>/dev/null && break
  sleep 0.2
done
sleep 0.5 # the curses display refreshes on a timer
tmux capture-pane -p -t "$session" > "$logs/screen-vga-text.screen.txt"
"$root/scripts/qemu_screen.py" "$work/monitor.sock" shot "$logs/screen-vga-text.png" || true
"$root/scripts/qemu_screen.py" "$work/monitor.sock" send quit > /dev/null || true
cp "$work/serial.log" "$logs/screen-vga-text.log"

python3 - "$logs/screen-vga-text.screen.txt" "$work/serial.log" "$root/tests/golden/stories260K_greedy_200.txt" <<'PY'
import re, sys
screen = open(sys.argv[1], encoding="utf-8", errors="replace").read()
serial = open(sys.argv[2], encoding="utf-8", errors="replace").read()
golden = open(sys.argv[3], encoding="utf-8").read()
failures = []
def check(ok, what):
    if not ok:
        failures.append(what)
# The screen wraps at word boundaries: compare its words, not its lines.
words = " ".join(screen.split())
first_words = " ".join(golden.split()[:12])
check(re.search(r"^BareFlow \| llama2\.c fp32 0\.26M params \| matmul:\w+ \| 1 core", screen, re.M), "screen lacks the header line")
check(first_words in words, f"screen lacks the story's first words: {first_words!r}")
check(re.search(r"\[gen\] [0-9.]+ tok/s, time to first token", screen), "screen lacks the tok/s summary")
check('{"' not in screen, "screen shows JSON")
check("[prof]" not in screen, "screen shows the profiler table")
check(all(len(line) <= 80 for line in screen.splitlines()), "screen has a line over 80 columns")
check('{"generation":' in serial and '{"profile":' in serial, "serial lacks the JSON lines")
prof = [l.rstrip("\r") for l in serial.splitlines() if l.startswith("[prof]")]
check(len(prof) > 3, "serial lacks the profiler table")
check(all(len(l) <= 80 for l in prof), "a profiler line is wider than 80 columns")
if failures:
    print("FAIL: " + "; ".join(failures))
    print("---- screen ----")
    print(screen)
    sys.exit(1)
print("PASS: the screen shows the header, the story and the summary; JSON and the table are on serial only")
PY
