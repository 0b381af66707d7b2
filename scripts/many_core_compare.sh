#!/usr/bin/env bash
# BareFlow's hosted build next to llama2.c's OpenMP build on a many-core machine that has
# no BareFlow tool chain: only gcc (with OpenMP) and python3 (the issue-14 comparison of
# cpus=16 against llama2.c with 16 threads). BareFlow's programs come built (copy the
# build folder there: they link only libc and libstdc++); llama2.c's run.c and runq.c are
# compiled there with -march=native from a checkout of its source.
#
#   scripts/many_core_compare.sh --llama2c DIR --tokenizer tokenizer.bin
#       [--build build] [--work DIR] [--threads 1,N] [--shapes 110M] [--rounds 3] [--steps 64]
#
# Random-weight checkpoints of the shapes are made in --work (and their int8 exports, for
# runq.c); both engines generate greedily from BOS and compute every logit; the table is
# scripts/compare_llama2c.py's (medians of interleaved rounds). --threads defaults to 1,
# half the cores and all of them.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
llama2c="" tokenizer="" build="$root/build" work="" threads="" shapes="110M" rounds=3 steps=64
usage() { sed -n '8,9p' "$0" | sed "s/^# */  /" >&2; exit 2; }
while [ $# -gt 0 ]; do
  [ $# -ge 2 ] || usage
  case "$1" in
    --llama2c) llama2c="$2" ;;
    --tokenizer) tokenizer="$2" ;;
    --build) build="$2" ;;
    --work) work="$2" ;;
    --threads) threads="$2" ;;
    --shapes) shapes="$2" ;;
    --rounds) rounds="$2" ;;
    --steps) steps="$2" ;;
    *) usage ;;
  esac
  shift 2
done
[ -n "$llama2c" ] && [ -n "$tokenizer" ] || usage
for file in "$llama2c/run.c" "$llama2c/runq.c" "$tokenizer" "$build/bareflow-host" "$build/bareflow-make-checkpoint" "$build/bareflow-quantize"; do
  [ -e "$file" ] || { echo "many_core_compare: $file not found" >&2; exit 1; }
done
command -v gcc >/dev/null || { echo "many_core_compare: needs gcc (with OpenMP) to build llama2.c" >&2; exit 1; }
cores=$(nproc)
if [ -z "$threads" ]; then
  threads=1
  [ "$cores" -ge 4 ] && threads="$threads,$((cores / 2))"
  [ "$cores" -ge 2 ] && threads="$threads,$cores"
fi
[ -n "$work" ] || work="$(mktemp -d)"
mkdir -p "$work"

echo "[many-core] $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $cores cores; threads $threads" >&2
for program in run runq; do
  gcc -Ofast -march=native -fopenmp "$llama2c/$program.c" -lm -o "$work/${program}omp"
done
checkpoints=()
for shape in ${shapes//,/ }; do
  fp32="$work/random-$shape.bin" int8="$work/random-$shape-q80.bin"
  [ -f "$fp32" ] || "$build/bareflow-make-checkpoint" --shape "$shape" -o "$fp32" >/dev/null
  [ "$int8" -nt "$fp32" ] || "$build/bareflow-quantize" "$fp32" "$int8" >/dev/null
  checkpoints+=("$shape=$fp32" "$shape int8=$int8")
done
"$root/scripts/compare_llama2c.py" --run "$work/runomp" --runq "$work/runqomp" --bareflow "$build/bareflow-host" \
  --tokenizer "$tokenizer" --threads "$threads" --rounds "$rounds" --steps "$steps" "${checkpoints[@]}"
