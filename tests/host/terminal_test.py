#!/usr/bin/env python3
"""The hosted program with a terminal on stdin (a pseudo-terminal), as a person runs it.

While the program reads keys the terminal passes them on as typed: no line buffering, no
echo of its own (the line editor echoes), Ctrl+C a byte rather than SIGINT. A prompt mended
with the cursor keys is echoed once and tells the golden story; Ctrl+C stops a story and the
next prompt is read; Ctrl+D on an empty line ends the input; and the terminal's settings
are as before once the program has ended, also when SIGTERM or Ctrl+\\ (SIGQUIT) ends it.
The settings are read from the terminal's other side, which shares them.
    terminal_test.py HOST_PROGRAM MODEL TOKENIZER GOLDEN
"""
import os
import pty
import select
import signal
import sys
import termios
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


def keys_as_typed(settings):
    """Whether the terminal's settings pass keys on as typed (the program's)."""
    local, control = settings[3], settings[6]
    return not (local & (termios.ICANON | termios.ECHO)) and control[termios.VINTR] != b"\x03"


def as_a_terminal_starts(settings):
    local, control = settings[3], settings[6]
    return bool(local & termios.ICANON) and bool(local & termios.ECHO) and bool(local & termios.ISIG) and control[termios.VINTR] == b"\x03"


class Session:
    """The program on a new pseudo-terminal (its controlling one), its output gathered."""

    def __init__(self):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            # As a person's shell starts it: a test run in the background (`&` without job
            # control) inherits SIGINT and SIGQUIT ignored, which the program rightly keeps.
            for number in (signal.SIGINT, signal.SIGQUIT):
                signal.signal(number, signal.SIG_DFL)
            os.execv(program, [program, model, tokenizer, "mode=interactive", "temp=0", "steps=200"])
        self.output = ""
        self.status = None
        self.started_with = termios.tcgetattr(self.fd)

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
            except OSError:  # the program has ended
                chunk = b""
            if not chunk:
                return -1
            self.output += chunk.decode("utf-8", "replace").replace("\r\n", "\n")

    def wait_for_keys_mode(self, seconds=30):
        """The program switches the terminal when it first looks for keys, just after its prompt."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if keys_as_typed(termios.tcgetattr(self.fd)):
                return True
            time.sleep(0.01)
        return False

    def type(self, keys):
        os.write(self.fd, keys.encode())

    def ended(self, seconds=60):
        """Waits for the program's end (its output read meanwhile); its wait status, or None."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = status
                self.wait_for("\0", seconds=1)  # what it wrote last, up to the terminal's end
                return status
            self.wait_for("\0", seconds=0.05)  # drains the output
        return None

    def settings_given_back(self):
        return as_a_terminal_starts(self.started_with) and termios.tcgetattr(self.fd) == self.started_with

    def close(self):
        if self.status is None:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        os.close(self.fd)


session = Session()
try:
    first = session.wait_for("prompt> ")
    if first < 0 or not session.wait_for_keys_mode():
        fail("no prompt, or the terminal was not switched to pass keys on as typed", session.output)
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
        status = session.ended()
        shown = session.output[max(third, 0):]
        if status is None or not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0 or "[interactive] input ended" not in shown:
            fail(f"Ctrl+D on an empty line did not end the run (wait status {status})", shown)
        elif not session.settings_given_back():
            fail("the terminal's settings were not given back", shown)
        else:
            print("PASS: Ctrl+D on an empty line ends the input, and the terminal is given back as it was")
finally:
    session.close()

# Ended by a signal while the keys are taken: the terminal is given back all the same.
for name, end in [("SIGTERM", lambda s: os.kill(s.pid, signal.SIGTERM)), ("Ctrl+\\", lambda s: s.type("\034"))]:
    session = Session()
    try:
        if session.wait_for("prompt> ") < 0 or not session.wait_for_keys_mode():
            fail("no prompt, or the terminal was not switched to pass keys on as typed", session.output)
            continue
        end(session)
        status = session.ended()
        if status is None or not os.WIFSIGNALED(status):
            fail(f"{name} did not end the program (wait status {status})", session.output)
        elif not session.settings_given_back():
            fail(f"the terminal's settings were not given back after {name}")
        else:
            print(f"PASS: {name} ends the program, and the terminal is given back as it was")
    finally:
        session.close()

sys.exit(1 if failures else 0)
