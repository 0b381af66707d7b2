#!/usr/bin/env python3
"""Talks to a QEMU monitor on a UNIX socket (scripts/boot.sh --monitor SOCKET).

    qemu_screen.py SOCKET shot OUT.png    the screen as a person sees it, as a PNG
    qemu_screen.py SOCKET send COMMAND    any monitor command (sendkey ret, quit, ...)

QEMU's screendump writes PPM; it is converted to PNG here with zlib, so no image tools
are needed.
"""
import os
import socket
import struct
import sys
import tempfile
import time
import zlib


def monitor_command(path, command, settle=0.3):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(path)
        s.settimeout(5)
        time.sleep(0.1)  # the monitor greets first; read it so replies are not mixed
        try:
            s.recv(65536)
        except socket.timeout:
            pass
        s.sendall(command.encode() + b"\n")
        time.sleep(settle)
        try:
            return s.recv(65536).decode(errors="replace")
        except (socket.timeout, ConnectionResetError):
            return ""


def read_ppm(path):
    data = open(path, "rb").read()
    fields, at = [], 0
    while len(fields) < 4:  # magic, width, height, maxval: whitespace-separated, # comments
        while data[at:at + 1].isspace():
            at += 1
        if data[at:at + 1] == b"#":
            at = data.index(b"\n", at) + 1
            continue
        end = at
        while not data[end:end + 1].isspace():
            end += 1
        fields.append(data[at:end])
        at = end
    if fields[0] != b"P6" or int(fields[3]) != 255:
        raise ValueError(f"{path}: not an 8-bit P6 PPM")
    width, height = int(fields[1]), int(fields[2])
    return width, height, data[at + 1:at + 1 + width * height * 3]


def write_png(path, width, height, rgb):
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    stride = width * 3
    rows = b"".join(b"\0" + rgb[y * stride:(y + 1) * stride] for y in range(height))
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")
    open(path, "wb").write(png)


def shot(sock, out):
    with tempfile.TemporaryDirectory() as tmp:
        ppm = os.path.join(tmp, "screen.ppm")
        monitor_command(sock, f'screendump "{ppm}"', settle=0.5)
        for _ in range(50):
            if os.path.exists(ppm) and os.path.getsize(ppm) > 0:
                break
            time.sleep(0.1)
        time.sleep(0.2)
        write_png(out, *read_ppm(ppm))


def main():
    if len(sys.argv) < 4 or sys.argv[2] not in ("shot", "send"):
        sys.exit(__doc__)
    sock, action = sys.argv[1], sys.argv[2]
    if action == "shot":
        shot(sock, sys.argv[3])
    else:
        sys.stdout.write(monitor_command(sock, " ".join(sys.argv[3:])))


if __name__ == "__main__":
    main()
