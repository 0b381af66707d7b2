#!/usr/bin/env python3
"""Talks to a QEMU monitor on a UNIX socket (scripts/boot.sh --monitor SOCKET).

    qemu_screen.py SOCKET shot OUT.png    the screen as a person sees it, as a PNG
    qemu_screen.py SOCKET send COMMAND    any monitor command (sendkey ret, quit, ...)
    qemu_screen.py SOCKET type TEXT       types TEXT and enter on the guest's keyboard
                                          (sendkey, key by key: US layout; {NAME} in TEXT
                                          presses QEMU's key NAME: {left}, {ctrl-c}, {ret})

QEMU's screendump writes PPM; it is converted to PNG here with zlib, so no image tools
are needed.
"""
import os
import re
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


# QEMU's key names for the characters that are not their own name, unshifted and shifted.
KEY_NAMES = {" ": "spc", "-": "minus", "=": "equal", "[": "bracket_left", "]": "bracket_right",
             "\\": "backslash", ";": "semicolon", "'": "apostrophe", "`": "grave_accent", ",": "comma",
             ".": "dot", "/": "slash", "\n": "ret", "\b": "backspace", "\x7f": "backspace"}
SHIFTED = dict(zip('!@#$%^&*()_+{}|:"~<>?', "1234567890-=[]\\;'`,./"))


def key_for(char):
    if char.isascii() and char.isalnum():
        return f"shift-{char.lower()}" if char.isupper() else char
    if char in SHIFTED:
        return "shift-" + KEY_NAMES.get(SHIFTED[char], SHIFTED[char])
    if char in KEY_NAMES:
        return KEY_NAMES[char]
    sys.exit(f"qemu_screen: no key types {char!r}")


def keys_of(text):
    """QEMU's key names for TEXT and enter: its characters, and {NAME} as the key NAME."""
    keys = []
    for named, char in re.findall(r"\{([a-z0-9_-]+)\}|(.)", text + "\n", re.S):
        keys.append(named or key_for(char))
    return keys


def type_text(path, text):
    """Each key pressed and released, in one monitor connection, with a pause between keys
    (a guest that polls its keyboard sees every one)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(path)
        s.settimeout(5)
        time.sleep(0.1)
        try:
            s.recv(65536)
        except socket.timeout:
            pass
        for key in keys_of(text):
            s.sendall(f"sendkey {key} 50\n".encode())
            time.sleep(0.15)
            try:
                s.recv(65536)
            except socket.timeout:
                pass


def main():
    if len(sys.argv) < 4 or sys.argv[2] not in ("shot", "send", "type"):
        sys.exit(__doc__)
    sock, action = sys.argv[1], sys.argv[2]
    if action == "shot":
        shot(sock, sys.argv[3])
    elif action == "type":
        type_text(sock, " ".join(sys.argv[3:]))
    else:
        sys.stdout.write(monitor_command(sock, " ".join(sys.argv[3:])))


if __name__ == "__main__":
    main()
