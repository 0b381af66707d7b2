#!/usr/bin/env python3
"""Times a chat's first reply in QEMU from outside the kernel.

    scripts/time_chat_reply.py ISO [--smp N] [--message TEXT] [--log FILE] [--timeout S]

Boots ISO (built with mode=chat) headless under TCG, types the message at the first
"you> " prompt and prints how many seconds after sending it the first character of the
reply arrived on the serial port. It reads only the serial port, so it measures any
BareFlow version alike, including those from before the chat printed its own timing line
(scripts/bench.sh uses that line); that is how the issue-time kernel was compared with
today's on the same host.
"""
import argparse
import os
import select
import subprocess
import sys
import time


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("iso")
    parser.add_argument("--smp", type=int, default=1)
    parser.add_argument("--mem", type=int, default=2048, help="MiB")
    parser.add_argument("--message", default="Hello there")
    parser.add_argument("--log", help="write the serial output here")
    parser.add_argument("--timeout", type=float, default=1500, help="seconds for the whole boot")
    args = parser.parse_args()

    qemu = ["qemu-system-x86_64", "-machine", "pc", "-cpu", "max", "-accel", "tcg,thread=multi",
            "-m", str(args.mem), "-smp", str(args.smp), "-no-reboot", "-nic", "none",
            "-display", "none", "-serial", "stdio", "-cdrom", args.iso]
    machine = subprocess.Popen(qemu, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    log = open(args.log, "wb") if args.log else None
    started = time.monotonic()
    seen = b""
    sent_at = None
    try:
        while time.monotonic() - started < args.timeout:
            ready, _, _ = select.select([machine.stdout], [], [], 1.0)
            if not ready:
                continue
            chunk = os.read(machine.stdout.fileno(), 4096)
            if not chunk:
                break
            now = time.monotonic()
            if log:
                log.write(chunk)
                log.flush()
            seen += chunk
            if sent_at is None:
                if b"you> " in seen:
                    machine.stdin.write(args.message.encode() + b"\n")
                    machine.stdin.flush()
                    sent_at = now
                    seen = b""
                    print(f"prompt after {now - started:.1f} s of boot", flush=True)
                continue
            # The echoed message, then "assistant> ", then the reply's first character.
            text = seen.decode(errors="replace")
            _, echoed, rest = text.partition(args.message)
            _, label, reply = rest.partition("assistant>")
            if echoed and label and reply.strip():
                print(f"first reply {reply.strip()[:20]!r} after {now - sent_at:.1f} s (-smp {args.smp})", flush=True)
                return 0
        print("no reply before the timeout" if sent_at else "no chat prompt before the timeout", file=sys.stderr)
        return 1
    finally:
        machine.kill()
        machine.wait()


if __name__ == "__main__":
    sys.exit(main())
