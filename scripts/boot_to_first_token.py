#!/usr/bin/env python3
"""Boots an ISO in QEMU and times, from QEMU's start, when each boot stage shows up on the
serial line, up to the first generated character: what a person waits for.

    boot_to_first_token.py ISO [scripts/boot.sh options]

The ISO must run mode=generate with prompt="" (so the first character of the story is a
generated one). Prints one JSON line: {"kernel_s":..,"modules_s":..,"tuned_s":..,
"first_token_s":..} (seconds from QEMU's start; null for a stage that never came).
"""
import json
import os
import re
import subprocess
import sys
import time

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
stages = {  # stage -> what marks it on the serial line
    "kernel_s": re.compile(rb"BareFlow: a self-profiling"),
    "modules_s": re.compile(rb"\[mod\] tokenizer|\[mod\] model.*\n(?!\[mod\])"),
    "tuned_s": re.compile(rb"\[tune\] plan"),
    "first_token_s": re.compile(rb'\[gen\] prompt: ""\r?\n\r?\n[^\r\n]'),
}

start = time.monotonic()
boot = subprocess.Popen([os.path.join(root, "scripts", "boot.sh"), *sys.argv[1:], "--timeout", "300"],
                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
seen, text = {}, b""
while True:
    chunk = os.read(boot.stdout.fileno(), 65536)
    if not chunk:
        break
    now = time.monotonic() - start
    text += chunk
    for name, pattern in stages.items():
        if name not in seen and pattern.search(text):
            seen[name] = round(now, 3)
boot.wait()
print(json.dumps({name: seen.get(name) for name in stages}))
