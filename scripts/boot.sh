#!/usr/bin/env bash
# Boots a BareFlow ISO headless in QEMU with the serial port on stdout.
#   scripts/boot.sh ISO [--uefi] [--raw] [--smp N] [--mem MiB] [--timeout S]
#                   [--cmdline "k=v ..."] [--display | --curses] [--monitor SOCKET]
#                   [--serial-file FILE] [--no-exit-device] [--stay] [--cpu MODEL]
#                   [--machine TYPE] [--ramfb] [--xhci] [--usb-keyboard [--usb-hubs N]]
# --cpu is QEMU's CPU model and features (default max: AVX2 and FMA under TCG), --machine
# its machine type and options (default pc; pc,pit=off has no timer chip). --ramfb gives
# UEFI boots QEMU's ramfb instead of a VGA card: a framebuffer the firmware keeps in RAM.
# --xhci adds an xHCI controller (id xhci: the monitor's device_add can plug a keyboard
# in later); --usb-keyboard adds one with a USB keyboard, which then gets the keys
# the monitor's sendkey types (the PS/2 keyboard none); --usb-hubs N hangs it behind N
# hubs, one in the next (QEMU's are full-speed USB 1.1 hubs), on port 3 of the last.
# --raw attaches the image as a USB stick instead of a CD; --cmdline is appended to the
# menu entry's command line (passed through QEMU's fw_cfg, read by the kernel).
# --display opens a window; --curses draws the VGA text screen in this terminal (then the
# serial port goes to --serial-file). --monitor puts QEMU's monitor on a UNIX socket
# (screendump, sendkey, quit). --no-exit-device leaves out isa-debug-exit, as on a real
# machine: the run then ends when the kernel switches the machine off (end=poweroff),
# which shows as status 3. --stay does the same for screenshots: the kernel halts at the
# end and QEMU waits until the monitor says quit (status 0).
# Exit status: 0 the kernel reported success, 1 it reported failure, 2 timeout,
# 3 QEMU ended any other way (a power-off, or a triple fault with -no-reboot), 4 bad usage.
set -uo pipefail

usage() { sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit 4; }

iso="" uefi=0 raw=0 smp=1 mem=512 timeout_s=120 cmdline="" display=none monitor="" serial_file="" stay=0 exit_device=1 cpu=max machine=pc video=() usb_keyboard=0 usb_hubs=0 xhci=0
while [ $# -gt 0 ]; do
  case "$1" in
    --uefi) uefi=1; shift ;;
    --raw) raw=1; shift ;;
    --smp) smp="${2:?}"; shift 2 ;;
    --mem) mem="${2:?}"; shift 2 ;;
    --timeout) timeout_s="${2:?}"; shift 2 ;;
    --cmdline) cmdline="${2?}"; shift 2 ;;
    --display) display=gtk; shift ;;
    --curses) display=curses; shift ;;
    --monitor) monitor="${2:?}"; shift 2 ;;
    --serial-file) serial_file="${2:?}"; shift 2 ;;
    --stay) stay=1; shift ;;
    --no-exit-device) exit_device=0; shift ;;
    --cpu) cpu="${2:?}"; shift 2 ;;
    --machine) machine="${2:?}"; shift 2 ;;
    --ramfb) video=(-vga none -device ramfb); shift ;;
    --usb-keyboard) usb_keyboard=1; shift ;;
    --xhci) xhci=1; shift ;;
    --usb-hubs) usb_hubs="${2:?}"; shift 2 ;;
    -h|--help) usage ;;
    -*) echo "boot: unknown option '$1'" >&2; usage ;;
    *) [ -z "$iso" ] || usage; iso="$1"; shift ;;
  esac
done
[ -n "$iso" ] || usage
[ -f "$iso" ] || { echo "boot: ISO '$iso' not found (scripts/mkiso.sh makes one)" >&2; exit 4; }
for n in "$smp" "$mem" "$timeout_s" "$usb_hubs"; do
  case "$n" in ''|*[!0-9]*) echo "boot: --smp, --mem, --timeout and --usb-hubs take whole numbers" >&2; exit 4 ;; esac
done
command -v qemu-system-x86_64 >/dev/null || { echo "boot: qemu-system-x86_64 missing: run scripts/install-deps.sh" >&2; exit 4; }

[ "$display" = curses ] && [ -z "$serial_file" ] && { echo "boot: --curses needs --serial-file (the terminal shows the screen)" >&2; exit 4; }
[ "$stay" -eq 1 ] && exit_device=0
args=(-machine "$machine" -cpu "$cpu" -m "$mem" -smp "$smp" -no-reboot -nic none -display "$display" "${video[@]}")
[ "$exit_device" -eq 1 ] && args+=(-device isa-debug-exit,iobase=0xf4,iosize=0x04)
if [ -n "$serial_file" ]; then args+=(-serial "file:$serial_file"); else args+=(-serial stdio); fi
if [ -n "$monitor" ]; then args+=(-monitor "unix:$monitor,server,nowait"); else args+=(-monitor none); fi
[ "$smp" -gt 1 ] && args+=(-accel tcg,thread=multi)
if [ "$uefi" -eq 1 ]; then
  ovmf=/usr/share/ovmf/OVMF.fd
  [ -f "$ovmf" ] || { echo "boot: $ovmf missing: install the ovmf package" >&2; exit 4; }
  args+=(-bios "$ovmf")
fi
if [ "$raw" -eq 1 ] || [ "$usb_keyboard" -eq 1 ] || [ "$xhci" -eq 1 ]; then args+=(-device qemu-xhci,id=xhci); fi
# A USB keyboard on the xHCI controller: QEMU then sends the keys it is given to it, not
# to the PS/2 keyboard.
if [ "$usb_keyboard" -eq 1 ]; then
  port=""
  for ((hub = 1; hub <= usb_hubs; hub++)); do
    port="${port:+$port.}$([ -z "$port" ] && echo 1 || echo 2)"
    args+=(-device "usb-hub,bus=xhci.0,port=$port")
  done
  args+=(-device "usb-kbd,bus=xhci.0${port:+,port=$port.3}")
fi
if [ "$raw" -eq 1 ]; then
  # The hybrid image as a USB stick: what `dd` onto a real stick gives.
  args+=(-drive "if=none,id=stick,format=raw,readonly=on,file=$iso" -device usb-storage,drive=stick,bootindex=0)
else
  args+=(-drive "media=cdrom,format=raw,readonly=on,file=$iso" -boot d)
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
if [ -n "$cmdline" ]; then
  printf '%s' "$cmdline" > "$tmp/cmdline"
  args+=(-fw_cfg "name=opt/bareflow/cmdline,file=$tmp/cmdline")
fi

# A curses screen needs the terminal: run QEMU in the foreground process group.
foreground=(); [ "$display" = curses ] && foreground=(--foreground)
timeout "${foreground[@]}" -k 5 "$timeout_s" qemu-system-x86_64 "${args[@]}"
status=$?
# --stay: QEMU ends when told to quit through the monitor, after the kernel has halted.
[ "$stay" -eq 1 ] && [ $status -eq 0 ] && exit 0
case $status in
  33) exit 0 ;;
  35) exit 1 ;;
  124|137) echo; echo "boot: timed out after ${timeout_s}s" >&2; exit 2 ;;
  *) echo
     if [ "$exit_device" -eq 1 ]; then
       echo "boot: QEMU exited with status $status without a report from the kernel (triple fault or crash?)" >&2
     else
       echo "boot: QEMU exited with status $status (no exit device: the machine was switched off, or reset)" >&2
     fi
     exit 3 ;;
esac
