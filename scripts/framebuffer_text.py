#!/usr/bin/env python3
"""Reads the text on a BareFlow framebuffer screen back from its pixels.

    framebuffer_text.py raw FILE WIDTH HEIGHT PITCH BYTES_PER_PIXEL
    framebuffer_text.py ppm FILE

A raw file is the framebuffer's memory as it lies (QEMU's monitor: pmemsave ADDRESS SIZE
FILE); a PPM is QEMU's screendump. The kernel draws every character in an 8x16 cell with
its own font (src/console/font_glyphs.txt) over one background colour, each font pixel as a
square of SCALE x SCALE pixels on screens wider than 240 cells or taller than 75 (the rule
of FramebufferConsole::scale_for, repeated here), so each cell is matched against the font:
a pixel is ink where it differs from the background (the colour of the blank cells, the
most common one). Prints the screen's rows without trailing blanks; a cell that is no
glyph of the font prints as '?'.
"""
import collections
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qemu_screen import read_ppm  # noqa: E402

FONT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "console", "font_glyphs.txt")
CELL_WIDTH, CELL_HEIGHT = 8, 16
MAX_COLUMNS, MAX_ROWS = 240, 75  # rt::TextScreen's grid


def scale_for(width, height):
    columns, rows = width // CELL_WIDTH, height // CELL_HEIGHT
    return max(-(-columns // MAX_COLUMNS), -(-rows // MAX_ROWS), 1)


def read_font(path=FONT):
    glyphs, code, rows = {}, None, []
    for line in open(path, encoding="ascii"):
        line = line.rstrip("\n")
        if line.startswith("char "):
            code, rows = int(line.split()[1], 16), []
        elif code is not None and line:
            rows.append(line)
            if len(rows) == CELL_HEIGHT:
                glyphs[tuple(rows)] = chr(code)
                code = None
    return glyphs


def screen_text(pixels, width, height, pitch, bytes_per_pixel, glyphs=None):
    glyphs = glyphs or read_font()

    def pixel(x, y):
        at = y * pitch + x * bytes_per_pixel
        return pixels[at:at + bytes_per_pixel]

    scale = scale_for(width, height)
    cell_width, cell_height = CELL_WIDTH * scale, CELL_HEIGHT * scale
    columns, rows = min(width // cell_width, MAX_COLUMNS), min(height // cell_height, MAX_ROWS)
    # The background: the colour of the cells' top-left pixels, which every glyph leaves blank.
    background = collections.Counter(pixel(c * cell_width, r * cell_height) for r in range(rows) for c in range(columns)).most_common(1)[0][0]
    lines = []
    for r in range(rows):
        line = []
        for c in range(columns):
            ink = [[pixel(c * cell_width + x, r * cell_height + y) != background for x in range(cell_width)] for y in range(cell_height)]
            shape = tuple("".join("#" if ink[y * scale][x * scale] else "." for x in range(CELL_WIDTH)) for y in range(CELL_HEIGHT))
            # Every pixel of a font pixel's square alike, or the cell is not the glyph drawn.
            whole = all(ink[y][x] == ink[y - y % scale][x - x % scale] for y in range(cell_height) for x in range(cell_width))
            line.append(glyphs.get(shape, "?") if whole else "?")
        lines.append("".join(line).rstrip())
    return "\n".join(lines).rstrip("\n") + "\n"


def main():
    if len(sys.argv) == 7 and sys.argv[1] == "raw":
        width, height, pitch, depth = (int(v) for v in sys.argv[3:7])
        pixels = open(sys.argv[2], "rb").read()
        if len(pixels) < pitch * height:
            sys.exit(f"{sys.argv[2]}: {len(pixels)} bytes, a {width}x{height} screen of pitch {pitch} needs {pitch * height}")
        sys.stdout.write(screen_text(pixels, width, height, pitch, depth))
    elif len(sys.argv) == 3 and sys.argv[1] == "ppm":
        width, height, rgb = read_ppm(sys.argv[2])
        sys.stdout.write(screen_text(rgb, width, height, width * 3, 3))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
