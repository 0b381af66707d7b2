#!/usr/bin/env python3
"""BareFlow next to llama.cpp on the same GGUF files, one thread, interleaved.

  scripts/compare_llama_cpp.py --llama-bench PATH --bareflow build/bareflow-host
      [--rounds 3] [--steps 32] [--prompt 64] [--jsonl OUT] NAME=FILE.gguf ...

For every round, every file runs once in each engine, one after the other, so both see
the same machine state (this VM's figures move 10-20% from minute to minute); the table
gives medians. Text generation: BareFlow `mode=bench temp=0 argmax=full` (every logit, as llama.cpp computes them) for --steps tokens against
`llama-bench -p 0 -n STEPS -t 1 -lm none` (-lm none: llama.cpp's mmap loading is
distorted by this VM's page reclaim). With --prompt N, also prompt processing: llama.cpp's
ppN next to BareFlow's prompt tok/s for an N-token prompt (where BareFlow reports it).
"""
import argparse
import json
import re
import statistics
import subprocess
import sys


def run_bareflow(program, gguf, steps, prompt_tokens):
    args = [program, gguf, "/dev/null", "mode=bench", "temp=0", "cpus=1", "argmax=full", f"steps={steps}"]
    # A prompt of N tokens: BareFlow's tokenizer gives one token per " the" in Llama
    # vocabularies; the bench prints how many it got.
    args.append("prompt=" + ("the " * prompt_tokens).strip() if prompt_tokens else 'prompt=')
    text = subprocess.run(args, capture_output=True, text=True, timeout=1800).stdout
    found = re.findall(r'\{"generation":(\{.*?\})\}', text)
    if not found:
        errors = re.findall(r"\[error\][^\n]*", text)
        raise RuntimeError(errors[-1] if errors else "BareFlow printed no result")
    return json.loads(found[-1])


def run_llama(program, gguf, prompt, generate):
    args = [program, "-m", gguf, "-t", "1", "-p", str(prompt), "-n", str(generate), "-lm", "none", "-o", "json"]
    result = subprocess.run(args, capture_output=True, text=True, timeout=1800)
    if result.returncode != 0:
        raise RuntimeError((result.stderr.strip().splitlines() or ["llama-bench failed"])[-1])
    rows = json.loads(result.stdout)
    return rows[-1]["avg_ts"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--llama-bench", required=True)
    parser.add_argument("--bareflow", required=True)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=32)
    parser.add_argument("--prompt", type=int, default=0)
    parser.add_argument("--jsonl")
    parser.add_argument("files", nargs="+", help="NAME=FILE.gguf")
    options = parser.parse_args()
    files = [tuple(f.split("=", 1)) for f in options.files]

    figures = {name: {"bareflow_tg": [], "llama_tg": [], "bareflow_pp": [], "llama_pp": []} for name, _ in files}
    errors = {}
    for round_index in range(options.rounds):
        for name, gguf in files:
            if name in errors:
                continue
            print(f"[compare] round {round_index + 1}/{options.rounds}: {name}", file=sys.stderr, flush=True)
            try:
                generation = run_bareflow(options.bareflow, gguf, options.steps, 0)
                figures[name]["bareflow_tg"].append(generation["tok_per_s"])
                figures[name]["llama_tg"].append(run_llama(options.llama_bench, gguf, 0, options.steps))
            except (RuntimeError, subprocess.TimeoutExpired, json.JSONDecodeError) as error:
                errors[name] = str(error)
                continue
            if options.prompt:
                try:
                    # steps counts positions: the prompt (with BOS) and a token or two after it.
                    prompted = run_bareflow(options.bareflow, gguf, options.prompt + 3, options.prompt)
                    if "prompt_tok_per_s" in prompted:
                        figures[name]["bareflow_pp"].append(prompted["prompt_tok_per_s"])
                    figures[name]["llama_pp"].append(run_llama(options.llama_bench, gguf, options.prompt, 0))
                except (RuntimeError, subprocess.TimeoutExpired, json.JSONDecodeError) as error:
                    print(f"[compare] {name}: prompt run failed: {error}", file=sys.stderr)

    median = lambda values: statistics.median(values) if values else None
    show = lambda value: f"{value:.2f}" if value is not None else "-"
    print()
    print(f"BareFlow and llama.cpp, one thread, medians of {options.rounds} interleaved rounds (tok/s)")
    header = f"{'model':<22} {'BareFlow tg':>12} {'llama.cpp tg':>13} {'ratio':>6}"
    if options.prompt:
        header += f" {'BareFlow pp' + str(options.prompt):>14} {'llama.cpp pp' + str(options.prompt):>15} {'ratio':>6}"
    print(header)
    rows = []
    for name, gguf in files:
        if name in errors:
            print(f"{name:<22} {errors[name]}")
            rows.append({"kind": "llama.cpp", "model": name, "error": errors[name]})
            continue
        f = {key: median(values) for key, values in figures[name].items()}
        ratio = lambda a, b: a / b if a is not None and b else None
        line = f"{name:<22} {show(f['bareflow_tg']):>12} {show(f['llama_tg']):>13} {show(ratio(f['bareflow_tg'], f['llama_tg'])) + 'x':>6}"
        if options.prompt:
            line += f" {show(f['bareflow_pp']):>14} {show(f['llama_pp']):>15} {show(ratio(f['bareflow_pp'], f['llama_pp'])) + 'x':>6}"
        print(line)
        rows.append({"kind": "llama.cpp", "model": name, "file": gguf, "rounds": options.rounds, **f})
    if options.jsonl:
        with open(options.jsonl, "a") as out:
            for row in rows:
                out.write(json.dumps(row) + "\n")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
