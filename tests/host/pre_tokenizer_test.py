#!/usr/bin/env python3
"""The byte-level vocabularies' word cutting (app/llm/pre_tokenizer.cpp) against the
expressions themselves, run by Python's `regex` module (Unicode's own letter, number and
space classes), on llama.cpp's way of applying them: each expression to each piece the
ones before left, text between matches kept as words too. The texts: fixed cases, then
random strings drawn from ASCII, Latin, Greek, Cyrillic, CJK, kana, Hangul, Arabic and
Devanagari letters and digits, superscripts and fractions, marks, emoji, punctuation and
every kind of space (the cutting's own tables must agree with Unicode's on them).
    pre_tokenizer_test.py PRE_TOKENIZER_WORDS"""
import random
import subprocess
import sys

try:
    import regex
except ImportError:
    print("SKIP: Python's regex module is missing (Debian: python3-regex)")
    sys.exit(77)

GPT2 = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)"
LLAMA3 = (r"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}"
          r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN2 = LLAMA3.replace(r"\p{N}{1,3}", r"\p{N}")
# GPT-4o's and Tekken's as llama.cpp runs them (src/llama-vocab.cpp): upper and lower case
# by lookaheads, a letter outside a-z or outside A-Z, in place of \p{Lu} ... and \p{M}.
UPPER, LOWER = r"((?=[\p{L}])([^a-z]))", r"((?=[\p{L}])([^A-Z]))"
CONTRACTION = r"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?"
TEKKEN = (rf"[^\r\n\p{{L}}\p{{N}}]?{UPPER}*{LOWER}+|[^\r\n\p{{L}}\p{{N}}]?{UPPER}+{LOWER}*|\p{{N}}"
          r"| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+")
GPT4O = (rf"[^\r\n\p{{L}}\p{{N}}]?{UPPER}*{LOWER}+{CONTRACTION}|[^\r\n\p{{L}}\p{{N}}]?{UPPER}+{LOWER}*{CONTRACTION}|\p{{N}}{{1,3}}"
         r"| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+")
EXPRESSIONS = {"gpt2": [GPT2], "smollm": [r"\p{N}", GPT2], "llama3": [LLAMA3], "qwen2": [QWEN2], "gpt-4o": [GPT4O], "tekken": [TEKKEN]}


def cut(text, expressions):
    pieces = [text]
    for expression in expressions:
        pattern = regex.compile(expression)
        next_pieces = []
        for piece in pieces:
            at = 0
            for match in pattern.finditer(piece):
                if match.start() > at:
                    next_pieces.append(piece[at:match.start()])
                if match.end() > match.start():
                    next_pieces.append(match.group())
                at = match.end()
            if at < len(piece):
                next_pieces.append(piece[at:])
        pieces = next_pieces
    return pieces


POOLS = [
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", "0123456789", "     ", "\t\n\r\n\n\v\f",
    "'''", ".,;:!?-_()[]{}\"/\\@#$%^&*+=<>|~`", "sStTmMdD", "éèêëàâäçñöüßøåæÀÉÖÜØÅÆıœŒšŽ", "αβγδεζηθλμπσωΑΒΓΔΩ",
    "абвгдежзийклмнопрстуфхцчшщыэюяАБВГДЯ", "我想在工作天中文字", "ひらがなカタカナー", "한국어글", "مرحباعالم", "नमस्तेदुनिया",
    "٠١٢٣٤٥٦٧٨٩", "²³¹¼½¾ⅠⅡⅢ①②", "\u0301\u0308\u0327", "🦙😁👍🏽🚀", "\u00a0\u2003\u2009\u3000\u202f\u2028\u0085",
    "¡¿«»°±×÷€£¥©®™•…–—‘’“”", "\u00ad\u200b\u200d\ufeff",
]
CONTRACTIONS = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'RE", "'Ll"]


def random_text(rng):
    parts = []
    for _ in range(rng.randint(1, 40)):
        if rng.random() < 0.1:
            parts.append(rng.choice(CONTRACTIONS))
        else:
            pool = rng.choice(POOLS)
            parts.append("".join(rng.choice(pool) for _ in range(rng.randint(1, 6))))
    return "".join(parts)


FIXED = ["Hello world", " Hello world", "  Hello", "a\n\nb", "end   ", "it's don't!!", "x  = 42;", "ied 4 ½ months",
         "naïve нещо", "🦙.cpp", "Hello, y'all! How are you 😁 ?我想在apple工作1314151天～", "\n =", "' era", "3333333",
         "   \n\n\t  x", "A\u00a0B\u2003C", "x\u0301y", "HelloWorld HTTPServer iPhone ÉCOLE École ÉCOLEs CamelCaseXML",
         "don'T IT'S we'LL x'", "a/b\n/c !/\n/ 12345 ١٢٣٤"]


def main():
    program = sys.argv[1]
    rng = random.Random(20261130)
    texts = FIXED + [random_text(rng) for _ in range(3000)]
    failures = 0
    for name, expressions in EXPRESSIONS.items():
        run = subprocess.run([program, name], input="\x01".join(texts).encode() + b"\x01", capture_output=True)
        if run.returncode != 0:
            print(f"FAIL: {name}: the program failed: {run.stderr.decode()}")
            failures += 1
            continue
        records = run.stdout.split(b"\x01")[:-1]
        if len(records) != len(texts):
            print(f"FAIL: {name}: {len(records)} texts came back for {len(texts)}")
            failures += 1
            continue
        for text, record in zip(texts, records):
            expected = cut(text, expressions)
            got = [w.decode("utf-8", "surrogateescape") for w in record.split(b"\0")[:-1]]
            if got != expected:
                failures += 1
                if failures <= 8:
                    print(f"FAIL: {name}: {text!r}\n  expected {expected!r}\n  got      {got!r}")
        print(f"{name}: {len(texts)} texts cut")
    if failures:
        print(f"FAIL: {failures} texts cut otherwise than the expressions cut them")
        return 1
    print("PASS: every text is cut into the words the expressions make")
    return 0


sys.exit(main())
