#!/usr/bin/env bash
# One boot test in Bochs, a second emulator with its own BIOS and CPU models (AVX-512,
# SSE2-only, no SSE at all). Bochs has no exit device and Debian's build has no headless
# display, so it runs with the `term` display inside a private, detached tmux server
# (80x25), serial on COM1 to a file; the test stops it once the final line appears, and
# judges the serial log. Every run has a timeout and ends its tmux server and Bochs.
#   bochs_test.sh --name NAME --kernel ELF --cpu MODEL [--cpus N] [--mem MiB] [--models]
#                 [--cmdline "k=v ..."] [--until REGEX] [--expect REGEX]... [--reject REGEX]...
#                 [--expect-file FILE] [--timeout S] [--config "bochsrc line"]...
# --cmdline is baked into the ISO's menu entry (Bochs has no fw_cfg). --config adds a line
# to the bochsrc (devices: usb_xhci: ...).
# --until: the serial line that ends the run (default: the kernel's last line, either the
# power-off message or the no-SSE2 refusal). --models puts stories260K.bin + tok512.bin on
# the ISO (scripts/models.sh finds them: the models folder or the shipped copies).
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"

name="" kernel="" cpu="" cpus=1 mem=256 with_models=0 cmdline="" timeout=240
until_pattern='\[power\] it is now safe to turn the machine off|Halted\.'
expects=() rejects=() expect_files=() config_lines=()
while [ $# -gt 0 ]; do
  case "$1" in
    --name) name="$2"; shift 2 ;;
    --kernel) kernel="$2"; shift 2 ;;
    --cpu) cpu="$2"; shift 2 ;;
    --cpus) cpus="$2"; shift 2 ;;
    --mem) mem="$2"; shift 2 ;;
    --models) with_models=1; shift ;;
    --cmdline) cmdline="$2"; shift 2 ;;
    --until) until_pattern="$2"; shift 2 ;;
    --expect) expects+=("$2"); shift 2 ;;
    --reject) rejects+=("$2"); shift 2 ;;
    --expect-file) expect_files+=("$2"); shift 2 ;;
    --timeout) timeout="$2"; shift 2 ;;
    --config) config_lines+=("$2"); shift 2 ;;
    *) echo "bochs_test: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -n "$name" ] && [ -n "$kernel" ] && [ -n "$cpu" ] || { echo "bochs_test: --name, --kernel and --cpu are required" >&2; exit 2; }
for tool in bochs tmux; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool is not installed: run scripts/install-deps.sh (or skip: meson test --no-suite bochs)"; exit 1; }
done
bios=/usr/share/bochs/BIOS-bochs-latest vgabios=/usr/share/bochs/VGABIOS-lgpl-latest
[ -f "$bios" ] && [ -f "$vgabios" ] || { echo "FAIL: Bochs BIOS images missing: install bochsbios and vgabios"; exit 1; }

logs="$(dirname "$kernel")/boot-logs"
mkdir -p "$logs"
log="$logs/bochs-$name.log"
work="$(mktemp -d)"
socket="bareflow-bochs-$name-$$"
pid="" drainer=""
cleanup() {
  tmux -L "$socket" kill-server 2>/dev/null
  [ -z "$drainer" ] || kill "$drainer" 2>/dev/null
  # The pane's process is Bochs itself; make sure it is gone (it only dies with its pane).
  if [ -n "$pid" ]; then
    for _ in $(seq 1 50); do
      state="$(ps -o stat= -p "$pid" 2>/dev/null)"
      [ -z "$state" ] || [ "${state#Z}" != "$state" ] && break
      sleep 0.1
    done
    state="$(ps -o stat= -p "$pid" 2>/dev/null)"
    [ -n "$state" ] && [ "${state#Z}" = "$state" ] && kill -9 "$pid" 2>/dev/null
  fi
  rm -rf "$work"
}
trap cleanup EXIT

iso_args=()
if [ "$with_models" -eq 1 ]; then
  . "$root/scripts/models.sh"
  model="$(find_model stories260K.bin)" && tokenizer="$(find_model tok512.bin)" || exit 1
  iso_args+=(--model "$model" --tokenizer "$tokenizer")
fi
"$root/scripts/mkiso.sh" -o "$work/test.iso" --kernel "$kernel" --menu-timeout 0 --cmdline "$cmdline" "${iso_args[@]}" >/dev/null || exit 1

# clock sync=none: run as fast as the host allows (guest time then follows `ips`).
# reset_on_triple_fault=0: a triple fault stops the run with a panic in bochs.log
# instead of a silent reboot into GRUB.
cat > "$work/bochsrc" <<CONFIG
plugin_ctrl: speaker=0
megs: $mem
cpu: model=$cpu, count=$cpus, ips=100000000, reset_on_triple_fault=0
clock: sync=none, time0=local
romimage: file=$bios
vgaromimage: file=$vgabios
ata0-master: type=cdrom, path=$work/test.iso, status=inserted
boot: cdrom
com1: enabled=1, mode=file, dev=$work/serial.txt
display_library: term
log: $work/bochs.log
panic: action=fatal
error: action=report
info: action=report
sound: driver=dummy
speaker: enabled=0
CONFIG
for line in "${config_lines[@]}"; do printf '%s\n' "$line" >> "$work/bochsrc"; done
# Debian's Bochs stops at its debugger's prompt first: `c` continues.
printf 'c\n' > "$work/debugger.rc"
: > "$work/serial.txt"

tmux -L "$socket" -f /dev/null new-session -d -s bochs -x 80 -y 25 \
  "exec bochs -q -f '$work/bochsrc' -rc '$work/debugger.rc' 2>'$work/bochs.stderr'" || { echo "FAIL: tmux could not start Bochs"; exit 1; }
pid="$(tmux -L "$socket" display-message -p -t bochs '#{pane_pid}' 2>/dev/null)"
# With its debugger compiled in, Bochs's term display draws the guest screen on a pseudo
# terminal of its own ("Bochs connected to screen /dev/pts/N") and keeps the pane for the
# debugger. Nothing reads that terminal unless we do: once its buffer fills, Bochs blocks
# mid-run. Drain it (raw, no echo) into screen.txt for the whole run.
for _ in $(seq 1 100); do
  screen_tty="$(grep -ao 'connected to screen "[^"]*"' "$work/bochs.stderr" 2>/dev/null | head -n1 | cut -d'"' -f2)"
  [ -n "$screen_tty" ] && break
  sleep 0.1
done
if [ -n "$screen_tty" ] && [ -c "$screen_tty" ]; then
  stty -F "$screen_tty" raw -echo 2>/dev/null
  cat "$screen_tty" > "$work/screen.txt" 2>/dev/null &
  drainer=$!
fi

outcome=timeout
start=$SECONDS
while [ $((SECONDS - start)) -lt "$timeout" ]; do
  if grep -aEq -- "$until_pattern" "$work/serial.txt"; then outcome=finished; break; fi
  if ! tmux -L "$socket" has-session -t bochs 2>/dev/null; then outcome=exited; break; fi
  sleep 0.5
done
# A moment more, so a fault right after the last line still reaches the logs.
[ "$outcome" = finished ] && sleep 1
elapsed=$((SECONDS - start))
tmux -L "$socket" kill-server 2>/dev/null

# GRUB's menu drawing leaves terminal escapes in the log: strip them for reading and matching.
sed -e 's/\x1b\[[0-9;?]*[A-Za-z]//g' -e 's/\r$//' "$work/serial.txt" > "$work/clean.log"
{ cat "$work/clean.log"; echo; echo "---- bochs.log (tail) ----"; tail -n 20 "$work/bochs.log" 2>/dev/null; tail -n 5 "$work/bochs.stderr" 2>/dev/null; } > "$log"

failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
case "$outcome" in
  timeout) fail "no final line /$until_pattern/ within $timeout s" ;;
  exited) fail "Bochs ended before the final line /$until_pattern/" ;;
esac
if grep -aEiq 'triple fault|exception with no resolution|shutdown status' "$work/bochs.log" 2>/dev/null; then
  fail "Bochs reports a triple fault: $(grep -aEi -m1 'triple fault|exception with no resolution|shutdown status' "$work/bochs.log")"
fi
. "$root/tests/boot/log_checks.sh"
check_log "$work/clean.log"

echo "bochs $cpu x$cpus: $outcome after $elapsed s; serial log in $log"
if [ $failures -ne 0 ]; then
  echo "---- serial log ($log) ----"
  tail -n 60 "$log"
  exit 1
fi
