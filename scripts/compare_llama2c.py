#!/usr/bin/env python3
"""BareFlow next to llama2.c's run.c and runq.c on the same checkpoints, greedy, interleaved.

  scripts/compare_llama2c.py --run PATH [--runq PATH] --bareflow build/bareflow-host
      --tokenizer tokenizer.bin [--threads 1,2] [--rounds 3] [--steps 64] [--jsonl OUT] NAME=FILE.bin ...

--run is a build of llama2.c's run.c, for fp32 (version 0) checkpoints; --runq one of its
runq.c, for int8 (version 2, "ak42") ones, which the checkpoint's magic tells apart. Built
with -fopenmp, their threads follow OMP_NUM_THREADS, which this script sets for each
thread count (a build without OpenMP runs one thread whatever it is told: give it
--threads 1). For every round, every checkpoint and
thread count runs once in each engine, one after the other, so both see the same machine
state (this VM's figures move 10-20% from minute to minute); the table gives medians.
Both generate from BOS alone at temperature 0 and compute every logit: llama2.c
`-t 0 -n STEPS -i ""` (its "achieved tok/s" leaves out the first position) against BareFlow
`mode=bench temp=0 argmax=full cpus=N prompt=""` (its generation tok/s, which leaves out
the same one). BareFlow's default greedy run (screened argmax) computes fewer logits and
would be faster still.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys


def run_bareflow(program, checkpoint, tokenizer, steps, threads):
    args = [program, checkpoint, tokenizer, "mode=bench", "temp=0", "argmax=full", f"cpus={threads}", f"steps={steps}", "prompt="]
    text = subprocess.run(args, capture_output=True, text=True, timeout=1800).stdout
    found = re.findall(r'\{"generation":(\{.*?\})\}', text)
    if not found:
        errors = re.findall(r"\[error\][^\n]*", text)
        raise RuntimeError(errors[-1] if errors else "BareFlow printed no result")
    return json.loads(found[-1])["generation_tok_per_s"]


def is_int8(checkpoint):
    """Whether the checkpoint is llama2.c's version-2 int8 export (magic "ak42")."""
    with open(checkpoint, "rb") as f:
        return f.read(4) == (0x616B3432).to_bytes(4, "little")


def run_llama2c(program, checkpoint, tokenizer, steps, threads):
    args = [program, checkpoint, "-z", tokenizer, "-t", "0", "-n", str(steps), "-i", ""]
    environment = dict(os.environ, OMP_NUM_THREADS=str(threads))
    result = subprocess.run(args, capture_output=True, text=True, timeout=1800, env=environment)
    found = re.findall(r"achieved tok/s: ([\d.]+)", result.stdout + result.stderr)
    if result.returncode != 0 or not found:
        raise RuntimeError((result.stderr.strip().splitlines() or ["run.c printed no tok/s"])[-1])
    return float(found[-1])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--run", required=True, help="llama2.c's run.c, built (with -fopenmp for threads)")
    parser.add_argument("--runq", help="llama2.c's runq.c, built, for int8 checkpoints")
    parser.add_argument("--bareflow", required=True)
    parser.add_argument("--tokenizer", required=True)
    parser.add_argument("--threads", default="1", help="comma-separated thread counts")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=64)
    parser.add_argument("--jsonl")
    parser.add_argument("files", nargs="+", help="NAME=FILE.bin")
    options = parser.parse_args()
    files = [tuple(f.split("=", 1)) for f in options.files]
    thread_counts = [int(t) for t in options.threads.split(",")]
    runs = [(name, path, threads) for name, path in files for threads in thread_counts]

    figures = {(name, threads): {"bareflow": [], "llama2c": []} for name, _, threads in runs}
    errors = {}
    for round_index in range(options.rounds):
        for name, path, threads in runs:
            key = (name, threads)
            if key in errors:
                continue
            print(f"[compare] round {round_index + 1}/{options.rounds}: {name}, {threads} thread(s)", file=sys.stderr, flush=True)
            try:
                figures[key]["bareflow"].append(run_bareflow(options.bareflow, path, options.tokenizer, options.steps, threads))
                int8 = is_int8(path)
                if int8 and not options.runq:
                    raise RuntimeError("an int8 checkpoint needs --runq")
                program = options.runq if int8 else options.run
                figures[key]["llama2c"].append(run_llama2c(program, path, options.tokenizer, options.steps, threads))
            except (RuntimeError, OSError, subprocess.TimeoutExpired, json.JSONDecodeError, KeyError) as error:
                errors[key] = str(error)

    show = lambda value: f"{value:.2f}" if value is not None else "-"
    print()
    print(f"BareFlow and llama2.c (run.c fp32, runq.c int8), greedy, every logit, medians of {options.rounds} interleaved rounds (tok/s)")
    print(f"{'model':<12} {'threads':>7} {'BareFlow':>9} {'llama2.c':>9} {'ratio':>6}")
    rows = []
    for name, path, threads in runs:
        key = (name, threads)
        if key in errors:
            print(f"{name:<12} {threads:>7} {errors[key]}")
            rows.append({"kind": "llama2.c", "model": name, "threads": threads, "error": errors[key]})
            continue
        bareflow = statistics.median(figures[key]["bareflow"])
        llama2c = statistics.median(figures[key]["llama2c"])
        print(f"{name:<12} {threads:>7} {show(bareflow):>9} {show(llama2c):>9} {show(bareflow / llama2c) + 'x':>6}")
        rows.append({"kind": "llama2.c", "model": name, "file": path, "threads": threads, "rounds": options.rounds,
                     "bareflow_tok_per_s": bareflow, "llama2c_tok_per_s": llama2c})
    if options.jsonl:
        with open(options.jsonl, "a") as out:
            for row in rows:
                out.write(json.dumps(row) + "\n")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
