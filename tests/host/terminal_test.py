#!/usr/bin/env python3
"""The hosted program with a terminal on stdin (a pseudo-terminal), as a person runs it.

The terminal is switched to pass keys on as typed while the program reads them: a prompt
mended with the cursor keys is echoed once (by the line editor, not by the terminal too) and
tells the golden story; Ctrl+C stops a story and the program reads the next prompt; Ctrl+D
on an empty line ends the input; and the terminal's settings are back afterwards, also when
Ctrl+\\ kills the program.
    terminal_test.py HOST_PROGRAM MODEL TOKENIZER GOLDEN
"""
import os
import pty
import select
import shlex
import sys
import time

program, model, tokenizer, golden_path = sys.argv[1:5]
golden = open(golden_path).read()
failures = 0


def fail(message, output=""):
    global failures
    failures += 1
    print(f"FAIL: {message}")
    if output:
        print("---- what the terminal showed ----")
        print(output)
        print("----")


class Session:
    """A shell command on a new pseudo-terminal, its output gathered as it comes."""

    def __init__(self, command):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.execvp("sh", ["sh", "-c", command])
        self.output = ""

    def wait_for(self, text, seconds=60, after=0):
        """Reads until `text` appears past position `after`; returns where it ends, or -1."""
        deadline = time.monotonic() + seconds
        while True:
            found = self.output.find(text, after)
            if found >= 0:
                return found + len(text)
            left = deadline - time.monotonic()
            if left <= 0:
                return -1
            ready, _, _ = select.select([self.fd], [], [], left)
            if not ready:
                continue
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:  # the other side closed
                chunk = b""
            if not chunk:
                found = self.output.find(text, after)
                return found + len(text) if found >= 0 else -1
            self.output += chunk.decode("utf-8", "replace").replace("\r\n", "\n")

    def type(self, keys):
        os.write(self.fd, keys.encode())

    def close(self):
        try:
            os.kill(self.pid, 9)
        except ProcessLookupError:
            pass
        os.waitpid(self.pid, 0)
        os.close(self.fd)


# The settings are printed after the program ends, by the same shell on the same terminal.
after_run = 'echo "[exit $?]"; stty -a; echo "[settings shown]"'
run = " ".join(shlex.quote(a) for a in [program, model, tokenizer, "mode=interactive", "temp=0", "steps=200"])

session = Session(f"{run}; {after_run}")
try:
    first = session.wait_for("prompt> ")
    if first < 0:
        fail("no prompt", session.output)
    else:
        # "Once upon a tme", Left twice, "i", Enter (a terminal sends CR).
        session.type("Once upon a tme\033[D\033[Di\r")
        second = session.wait_for("prompt> ", after=first)
        shown = session.output[first:second]
        if second < 0 or golden not in shown:
            fail("the mended prompt did not tell the golden story", session.output)
        elif "^[" in shown or shown.count("Once upon a t") != 2:
            # once as typed ("Once upon a tme", then mended in place) and once in the story
            fail("the prompt was echoed by the terminal as well as by the editor", shown)
        else:
            print("PASS: keys reach the editor as typed, echoed once, and the mended prompt tells the golden story")

        # Enter and Ctrl+C together: the story stops after its first token, the run goes on.
        session.type("Once upon a time\r\003")
        third = session.wait_for("prompt> ", after=second)
        shown = session.output[second:third]
        if third >= 0 and "[interactive] stopped (Ctrl+C) after 1 generated token" in shown:
            print("PASS: Ctrl+C on a terminal stops the story, and the program reads the next prompt")
        else:
            fail("Ctrl+C did not stop the story (or ended the program)", session.output)

        # Ctrl+D on the empty line: the input ends, the program exits, the terminal is as before.
        session.type("\004")
        end = session.wait_for("[settings shown]", after=max(third, 0))
        shown = session.output[max(third, 0):]
        if "[interactive] input ended" not in shown or "[exit 0]" not in shown:
            fail("Ctrl+D on an empty line did not end the run", shown)
        elif end < 0 or "-icanon" in shown or "-echo " in shown or "intr = ^C" not in shown:
            fail("the terminal's settings were not given back", shown)
        else:
            print("PASS: Ctrl+D on an empty line ends the input, and the terminal is given back as it was")
finally:
    session.close()

# Killed by Ctrl+\ while the keys are taken: the terminal is given back all the same.
# The shell catches SIGQUIT (the terminal sends it to both) so that it lives to print them.
session = Session(f"trap : QUIT; {run}; {after_run}")
try:
    first = session.wait_for("prompt> ")
    session.type("\034")
    end = session.wait_for("[settings shown]", after=max(first, 0))
    shown = session.output[max(first, 0):]
    if first < 0 or end < 0 or "[exit 0]" in shown:
        fail("Ctrl+\\ did not end the program", session.output)
    elif "-icanon" in shown or "-echo " in shown or "intr = ^C" not in shown:
        fail("the terminal's settings were not given back after Ctrl+\\", shown)
    else:
        print("PASS: Ctrl+\\ ends the program, and the terminal is given back as it was")
finally:
    session.close()

sys.exit(1 if failures else 0)
