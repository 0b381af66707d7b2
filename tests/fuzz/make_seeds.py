#!/usr/bin/env python3
"""Writes the fuzzers' seed corpora at build time from tiny valid inputs, so nothing large
is committed: a llama2.c tokenizer of 300 tokens, random checkpoints of a few KB (fp32 and
int8, from the project's own tools), GGUF conversions of them, one with a chat template,
Multiboot2 information blocks as GRUB lays them out (BIOS and UEFI), and USB devices'
descriptors followed by keyboard reports.
  make_seeds.py OUT_DIR MAKE_CHECKPOINT QUANTIZE CONVERT_GGUF"""
import os
import struct
import subprocess
import sys

SEPARATOR = b"\n@@BAREFLOW@@\n"  # tests/fuzz/fuzz_support.h
VOCAB = 300


def byte_level_vocabulary_gguf():
    """A GGUF holding only a byte-level BPE vocabulary (SmolLM's format): the 256 bytes'
    characters as GPT-2 writes them, some merges, a user-defined token of two spaces."""
    printable = list(range(0x21, 0x7F)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    characters, moved = {}, 0x100
    for b in range(256):
        if b in printable:
            characters[b] = chr(b)
        else:
            characters[b] = chr(moved)
            moved += 1
    tokens = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "  "] + [characters[b] for b in range(256)]
    merges = ["H i", "\u0120 t", "h e", "\u0120t he", "r e", "\u0120the re"]
    for merge in merges:
        tokens.append(merge.replace(" ", ""))
    types = [3, 3, 3, 4] + [1] * (len(tokens) - 4)

    def string(text):
        data = text.encode()
        return struct.pack("<Q", len(data)) + data

    def strings(key, values):
        return string(key) + struct.pack("<IIQ", 9, 8, len(values)) + b"".join(string(v) for v in values)

    pairs = [string("tokenizer.ggml.model") + struct.pack("<I", 8) + string("gpt2"),
             string("tokenizer.ggml.pre") + struct.pack("<I", 8) + string("smollm"),
             strings("tokenizer.ggml.tokens", tokens),
             string("tokenizer.ggml.token_type") + struct.pack("<IIQ", 9, 5, len(types)) + struct.pack("<%di" % len(types), *types),
             strings("tokenizer.ggml.merges", merges),
             string("tokenizer.ggml.bos_token_id") + struct.pack("<II", 4, 1),
             string("tokenizer.ggml.eos_token_id") + struct.pack("<II", 4, 2)]
    return struct.pack("<4sIQQ", b"GGUF", 3, 0, len(pairs)) + b"".join(pairs)


def tokenizer_bytes():
    pieces = [b"<unk>", b"\n<s>\n", b"\n</s>\n"] + [b"<0x%02X>" % b for b in range(256)]
    text = b"Once upon a time there was a little girl who liked the sun"
    for c in sorted(set(text)):
        pieces.append(bytes([c]))
    for merge in [b"on", b"ce", b"Once", b" t", b"he", b" the", b" a", b" u", b"up", b" up", b"upon", b"im", b"ime", b" time",
                  b"ir", b"gir", b" girl", b"as", b" was", b"li", b"le"]:
        pieces.append(merge)
    pieces = (pieces + [b"x%d" % i for i in range(VOCAB)])[:VOCAB]
    out = struct.pack("<i", max(len(p) for p in pieces))
    for i, p in enumerate(pieces):  # later pieces merge later (lower score)
        out += struct.pack("<fi", -float(i) if i >= 259 else 0.0, len(p)) + p
    return out


def read_gguf_value(data, at, kind):
    fixed = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<B", 10: "<Q", 11: "<q", 12: "<d"}
    if kind in fixed:
        return at + struct.calcsize(fixed[kind])
    if kind == 8:
        (length,) = struct.unpack_from("<Q", data, at)
        return at + 8 + length
    if kind == 9:
        element, count = struct.unpack_from("<IQ", data, at)
        at += 12
        for _ in range(count):
            at = read_gguf_value(data, at, element)
        return at
    raise ValueError("unknown GGUF type %d" % kind)


def with_chat_template(gguf, template):
    """The same GGUF with tokenizer.chat_template added (tensor data moves with its section)."""
    magic, version, tensors, kvs = struct.unpack_from("<4sIQQ", gguf, 0)
    at = 24
    alignment = 32
    for _ in range(kvs):
        (length,) = struct.unpack_from("<Q", gguf, at)
        key = gguf[at + 8:at + 8 + length]
        at += 8 + length
        (kind,) = struct.unpack_from("<I", gguf, at)
        if key == b"general.alignment":
            (alignment,) = struct.unpack_from("<I", gguf, at + 4)
        at = read_gguf_value(gguf, at + 4, kind)
    kv_end = at
    for _ in range(tensors):
        (length,) = struct.unpack_from("<Q", gguf, at)
        at += 8 + length
        (dims,) = struct.unpack_from("<I", gguf, at)
        at += 4 + 8 * dims + 4 + 8
    infos = gguf[kv_end:at]
    data_start = (at + alignment - 1) // alignment * alignment
    key = b"tokenizer.chat_template"
    value = template.encode()
    head = struct.pack("<4sIQQ", magic, version, tensors, kvs + 1) + gguf[24:kv_end]
    head += struct.pack("<Q", len(key)) + key + struct.pack("<IQ", 8, len(value)) + value + infos
    head += b"\0" * (-len(head) % alignment)
    return head + gguf[data_start:]


def multiboot2_block(command_line, memory_map, framebuffer=None, efi=False):
    """A Multiboot2 information block: the command line, two modules, the memory map
    ((base, length, type) entries), a framebuffer tag ((address, pitch, width, height)) and
    the EFI 32-bit system table tag of a UEFI boot."""
    def tag(kind, body):
        data = struct.pack("<II", kind, 8 + len(body)) + body
        return data + b"\0" * (-len(data) % 8)
    tags = tag(1, command_line.encode() + b"\0") + tag(2, b"GRUB 2.06\0")
    tags += tag(3, struct.pack("<II", 0x400000, 0x500000) + b"model\0")
    tags += tag(3, struct.pack("<II", 0x500000, 0x501000) + b"tokenizer\0")
    tags += tag(6, struct.pack("<II", 24, 0) + b"".join(struct.pack("<QQII", *entry, 0) for entry in memory_map))
    if framebuffer:
        address, pitch, width, height = framebuffer
        tags += tag(8, struct.pack("<QIIIBBH", address, pitch, width, height, 32, 1, 0) + bytes([16, 8, 8, 8, 0, 8]))
    if efi:
        tags += tag(11, struct.pack("<I", 0x7F000000))
    tags += tag(0, b"")
    return struct.pack("<II", 8 + len(tags), 0) + tags


def main():
    out, make_checkpoint, quantize, convert_gguf = sys.argv[1:5]
    tmp = os.path.join(out, "tmp")
    for d in ["gguf", "checkpoint", "app", "chat_template", "boot_info", "usb", "tmp"]:
        os.makedirs(os.path.join(out, d), exist_ok=True)

    def path(name):
        return os.path.join(tmp, name)

    def run(*args):
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL)

    def read(name):
        with open(path(name), "rb") as f:
            return f.read()

    def write(folder, name, data):
        with open(os.path.join(out, folder, name), "wb") as f:
            f.write(data)

    with open(path("tok.bin"), "wb") as f:
        f.write(tokenizer_bytes())
    run(make_checkpoint, "--dim", "8", "--hidden", "16", "--layers", "1", "--heads", "2", "--kv-heads", "1",
        "--vocab", str(VOCAB), "--seq-len", "32", "-o", path("model.bin"))
    run(make_checkpoint, "--dim", "32", "--hidden", "16", "--layers", "1", "--heads", "2", "--kv-heads", "1",
        "--vocab", str(VOCAB), "--seq-len", "16", "-o", path("model32.bin"))
    run(quantize, path("model32.bin"), path("model_q8.bin"))
    run(convert_gguf, path("model.bin"), path("tok.bin"), path("model.gguf"), "--type", "f32")
    run(convert_gguf, path("model32.bin"), path("tok.bin"), path("model_q8.gguf"), "--type", "q8_0")
    for five_bit in ("q5_0", "q5_1"):  # the 32-value blocks with fifth bits
        run(convert_gguf, path("model32.bin"), path("tok.bin"), path("model_" + five_bit + ".gguf"), "--type", five_bit)
    tok, model, model_q8, gguf, gguf_q8 = read("tok.bin"), read("model.bin"), read("model_q8.bin"), read("model.gguf"), read("model_q8.gguf")
    chatml = ("{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
              "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")
    zephyr = ("{% for message in messages %}{% if message['role'] == 'user' %}{{ '<|user|>\\n' + message['content'] + eos_token }}"
              "{% elif message['role'] == 'system' %}{{ '<|system|>\\n' + message['content'] + eos_token }}"
              "{% else %}{{ '<|assistant|>\\n' + message['content'] + eos_token }}{% endif %}"
              "{% if loop.last and add_generation_prompt %}{{ '<|assistant|>' }}{% endif %}{% endfor %}")
    gguf_chatml, gguf_zephyr = with_chat_template(gguf, chatml), with_chat_template(gguf, zephyr)

    # Namespaces, macros, loop controls, filters on lists (the shapes of DeepSeek's and Mistral's templates).
    rich = ("{% set ns = namespace(n=0, text='') %}{% macro turn(role, text='?') %}<{{ role | title }}:{{ text.split('</think>')[-1] | trim }}>"
            "{% endmacro %}{% for m in messages if m.role != 'system' %}{% if loop.index > 5 %}{% break %}{% endif %}"
            "{% set ns.n = ns.n + 1 %}{{ turn(m.role, m.content) }}{% if m.content == '' %}{% continue %}{% endif %}{% endfor %}"
            "{{ messages | selectattr('role', 'equalto', 'user') | map(attribute='content') | join(', ') }}{{ range(3) | list | tojson }}"
            "{{ ns.n // 2 }}{{ messages[::-1][0].content[1:3] ~ ('x' * 2) if ns.n is odd else none }}")
    write("chat_template", "rich", rich.encode())
    write("chat_template", "chatml", chatml.encode())
    write("chat_template", "zephyr", zephyr.encode())
    write("gguf", "f32.gguf", gguf)
    write("gguf", "q8_0.gguf", gguf_q8)
    for five_bit in ("q5_0", "q5_1"):
        write("gguf", five_bit + ".gguf", read("model_" + five_bit + ".gguf"))
    write("gguf", "chatml.gguf", gguf_chatml)
    write("gguf", "byte_level_vocabulary.gguf", byte_level_vocabulary_gguf())
    write("checkpoint", "fp32", model + SEPARATOR + tok)
    write("checkpoint", "int8", model_q8 + SEPARATOR + tok)

    def app(name, cmdline, model_bytes, tokenizer=b"", typed=b""):
        write("app", name, cmdline.encode() + SEPARATOR + model_bytes + SEPARATOR + tokenizer + SEPARATOR + typed)

    app("generate", 'prompt="Once upon a time" temp=0 steps=8', model, tok)
    app("sample-q8", "temp=0.8 topp=0.9 seed=7 quant=q8 steps=6", model, tok)
    app("int8-tune", "tune=auto steps=4", model_q8, tok)
    app("bench", "mode=bench steps=5 tune=matmul:scalar", model, tok)
    app("interactive", "mode=interactive temp=0 steps=10", model, tok, b"Once upon\nthe sun\nexit\n")
    app("interactive-editing", "mode=interactive temp=0 steps=10", model, tok,
        b"Once upn\x1b[Do\x1b[H\x1b[3~o\r\n\x1b[A\x7f\x15the \xc3\xa9t\xc3\n\x03\x1b[1;5Cexit\n")
    app("gguf", "temp=0 steps=8", gguf)
    app("gguf-q8", "temp=0 steps=8 tune=auto", gguf_q8)
    app("chat-chatml", 'mode=chat temp=0 system="Be brief."', gguf_chatml, b"", b"Hello there\n/reset\nHi\nexit\n")
    app("chat-zephyr", "mode=chat temp=0.5 seed=3", gguf_zephyr, b"", b"Hi\nthe girl\n")
    app("chat-stopped", "mode=chat temp=0.5 seed=3", gguf_zephyr, b"", b"Hi\n\x03\x1b[Athe girl\n")
    app("chat-no-template", "mode=chat temp=0", gguf, b"", b"Hi\n")
    bios_map = [(0, 0x9FC00, 1), (0x9FC00, 0x400, 2), (0xF0000, 0x10000, 2), (0x100000, 0x7EE0000, 1), (0xFFFC0000, 0x40000, 2)]
    write("boot_info", "bios", multiboot2_block('prompt="Once upon a time" temp=0 cpus=2', bios_map))
    # A UEFI map: neighbours of one type (joined), reserved ranges, RAM above 4 GiB, and the
    # framebuffer at 256 GiB, as recent Intel laptops have it.
    uefi_map = [(0, 0xA0000, 1), (0x100000, 0x700000, 1), (0x800000, 0x8000, 4), (0x808000, 0x3000, 1), (0x80B000, 0x1000, 4),
                (0x900000, 0xBE000000, 1), (0xBE900000, 0x100000, 2), (0xBEA00000, 0x100000, 20), (0xBEB00000, 0x80000, 3),
                (0xE0000000, 0x10000000, 2), (0x100000000, 0x80000000, 1)]
    write("boot_info", "uefi-high-framebuffer", multiboot2_block("screen_test=above-4g x2apic=on", uefi_map,
                                                                  (0x4000000000, 7680, 1920, 1080), efi=True))
    write("boot_info", "uefi", multiboot2_block("steps=20", uefi_map, (0xC0000000, 4096, 1024, 768), efi=True))
    # USB (tests/fuzz/fuzz_usb.cpp): a device descriptor, a configuration, reports.
    def usb_configuration(*descriptors, value=1):
        body = b"".join(descriptors)
        interfaces = sum(1 for d in descriptors if d[1] == 4)
        return struct.pack("<BBHBBBBB", 9, 2, 9 + len(body), interfaces, value, 0, 0xA0, 50) + body

    def report(modifiers, *keys):
        return bytes([modifiers, 0] + list(keys) + [0] * (6 - len(keys)))

    keyboard_device = struct.pack("<BBHBBBBHHHBBBB", 18, 1, 0x200, 0, 0, 0, 8, 0x046D, 0xC31C, 0x100, 1, 2, 0, 1)
    hid = bytes([9, 0x21, 0x11, 0x01, 0, 1, 0x22, 63, 0])
    keyboard = usb_configuration(bytes([9, 4, 0, 0, 1, 3, 1, 1, 0]), hid, bytes([7, 5, 0x81, 3, 8, 0, 10]))
    typing = report(0, 0x0B) + report(0, 0x0B, 0x0C) + report(0) + report(0x02, 0x1E) + report(0, 0x39) + report(0, 1, 1, 1, 1, 1, 1)
    write("usb", "keyboard", keyboard_device + keyboard + typing)
    receiver = usb_configuration(bytes([9, 4, 0, 0, 1, 3, 1, 2, 0]), hid, bytes([7, 5, 0x81, 3, 4, 0, 2]),
                                 bytes([9, 4, 1, 0, 2, 3, 1, 1, 0]), hid, bytes([7, 5, 0x02, 3, 8, 0, 10]), bytes([7, 5, 0x82, 3, 8, 0, 10]), value=2)
    write("usb", "receiver", keyboard_device + receiver + report(0x20, 0x04, 0x05) + report(0))
    storage_device = struct.pack("<BBHBBBBHHHBBBB", 18, 1, 0x300, 0, 0, 0, 9, 0x46F4, 0x0001, 0, 1, 2, 3, 1)
    storage = usb_configuration(bytes([9, 4, 0, 0, 2, 8, 6, 0x50, 0]), bytes([7, 5, 0x81, 2, 0, 2, 0]), bytes([7, 5, 0x02, 2, 0, 2, 0]))
    write("usb", "storage", storage_device + storage)
    for name in os.listdir(tmp):
        os.remove(path(name))
    os.rmdir(tmp)


main()
