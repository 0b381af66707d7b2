#!/usr/bin/env bash
# BareFlow's benchmark: tok/s and weight-streaming rate of the hosted x86-64 and i686
# builds on random-weight checkpoints at the 15M, 42M and 110M shapes (fp32 and int8),
# next to this machine's single-thread read bandwidth measured in the same run; then the
# ISO in QEMU for stories260K and the 15M shape, with the tuner's choice and tune=off,
# and on 1, 2 and 4 cores; boot to first token (CD and USB stick); plus the hosted work
# pool on two threads.
#   scripts/bench.sh [--quick] [-o FILE.json]
# Needs tokenizer.bin (32000 tokens) in $BAREFLOW_MODELS (default models/;
# scripts/fetch-models.sh stories15M gets it); stories260K is shipped.
# With LLAMA_BENCH=/path/to/llama-bench (README: "Comparing with llama.cpp"), the same
# GGUF files also run in llama.cpp, interleaved with BareFlow, and the table gives ratios;
# with LLAMA2C_RUN=/path/to/run (llama2.c's run.c, README: "Comparing with llama2.c"), the
# fp32 checkpoints also run in llama2.c, on one thread and on all of them (LLAMA2C_RUNQ:
# runq.c, for their int8 exports too).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="$root/build"
output="$build/bench.json" quick=0
while [ $# -gt 0 ]; do
  case "$1" in
    -o) output="$2"; shift 2 ;;
    --quick) quick=1; shift ;;
    *) sed -n '2,15p' "$0"; exit 2 ;;
  esac
done
. "$root/scripts/models.sh"
vocabulary="$(find_model tokenizer.bin)" || { echo "bench: tokenizer.bin (32000 tokens) is missing from $(models_folder): run scripts/fetch-models.sh stories15M or set BAREFLOW_MODELS" >&2; exit 1; }
small_model="$(find_model stories260K.bin)" && small_tokenizer="$(find_model tok512.bin)" || exit 1
"$root/scripts/build.sh" "$build" >/dev/null

work="$build/bench"
mkdir -p "$work"
for shape in 15M 42M 110M; do
  [ -f "$work/random-$shape.bin" ] || "$build/bareflow-make-checkpoint" --shape "$shape" -o "$work/random-$shape.bin" >/dev/null
done
shapes=(15M 42M 110M)
[ $quick -eq 1 ] && shapes=(15M)
results="$work/results.jsonl"
: > "$results"

record() { # kind name quant arch log
  python3 - "$@" >> "$results" <<'PY'
import json, re, sys
kind, name, quant, arch, log = sys.argv[1:6]
text = open(log, encoding="utf-8", errors="replace").read()
m = re.findall(r'\{"generation":(\{.*?\})\}', text)
row = {"kind": kind, "model": name, "quant": quant, "arch": arch}
if m:
    row.update(json.loads(m[-1]))
else:
    row["error"] = (re.findall(r'\[error\][^\n]*', text) or ["no result"])[-1]
plan = re.findall(r'tune=(\S+)', text)
if plan:
    row["plan"] = plan[-1]
profile = re.findall(r'\{"profile":(\{.*\})\}', text)
if profile:
    p = json.loads(profile[-1])
    for probe in p["probes"]:
        if probe["name"] == "sampling" and probe["calls"]:
            row["sampling_us_per_token"] = probe["total"] / probe["calls"] / p["tsc_hz"] * 1e6
print(json.dumps(row))
PY
}

echo "[bench] memory read bandwidth (one thread, then two: the cpus=2 rows' ceiling)..."
bandwidth_json="$("$build/bareflow-membench" 1024)"
echo "[bench] $bandwidth_json"
bandwidth2_json="$("$build/bareflow-membench" 1024 --threads 2)"
echo "[bench] $bandwidth2_json"

i686_runner="$root/scripts/run-i686.sh"
for shape in "${shapes[@]}"; do
  for quant in none q8; do
    for arch in x86-64 i686; do
      case "$arch/$shape" in
        x86-64/15M) steps=256 ;; x86-64/42M) steps=128 ;; x86-64/110M) steps=64 ;;
        i686/15M) steps=16 ;; i686/42M) steps=8 ;; i686/110M) steps=4 ;;
      esac
      program=("$build/bareflow-host")
      [ "$arch" = i686 ] && program=("$i686_runner" "$build/bareflow-host-i686")
      log="$work/host-$arch-$shape-$quant.log"
      echo "[bench] $arch $shape quant=$quant steps=$steps"
      "${program[@]}" "$work/random-$shape.bin" "$vocabulary" mode=bench temp=0 prompt="" steps=$steps quant=$quant argmax=full > "$log" 2>&1 || true
      record host "$shape" "$quant" "$arch" "$log"
    done
  done
done
# The fp32 110M row against the bandwidth: this VM's read rate moves by a fifth between
# minutes, so the single run above and the membench at the start can meet different
# machines. Three rounds here each measure the two back to back; the median round's share.
if [ $quick -eq 0 ]; then
  echo "[bench] x86-64 110M fp32 beside bareflow-membench, 3 alternated rounds"
  for round in 1 2 3; do
    "$build/bareflow-membench" 1024 > "$work/beside-membench.$round.json"
    "$build/bareflow-host" "$work/random-110M.bin" "$vocabulary" mode=bench temp=0 prompt="" steps=64 argmax=full > "$work/beside-110M.log.$round" 2>&1 || true
  done
  python3 - "$work" >> "$results" <<'PY'
import json, re, sys
work = sys.argv[1]
rounds = []
for r in (1, 2, 3):
    bandwidth = json.load(open(f"{work}/beside-membench.{r}.json"))["read_gb_per_s"]
    m = re.findall(r'"weight_gb_per_s":([\d.]+)', open(f"{work}/beside-110M.log.{r}", errors="replace").read())
    if m:
        rounds.append({"read_gb_per_s": bandwidth, "weight_gb_per_s": float(m[-1]), "share": float(m[-1]) / bandwidth})
print(json.dumps({"kind": "beside", "model": "110M", "quant": "none", "rounds": rounds}))
PY
fi

# The rows above compute every logit (argmax=full), as llama.cpp does: they measure the
# kernels against the memory's speed. Greedy runs by default compute only the logits
# that can be the largest (screened_argmax.h): the same tokens, sooner.
for shape in "${shapes[@]}"; do
  case "$shape" in 15M) steps=256 ;; 42M) steps=128 ;; *) steps=64 ;; esac
  log="$work/host-x86-64-$shape-screened.log"
  echo "[bench] x86-64 $shape fp32 greedy, screened argmax, steps=$steps"
  "$build/bareflow-host" "$work/random-$shape.bin" "$vocabulary" mode=bench temp=0 prompt="" steps=$steps > "$log" 2>&1 || true
  record host "$shape" none "x86-64 screened" "$log"
done

# The default sampler (temp=1, topp=0.9) next to greedy: what sampling a 32000-token
# vocabulary costs per token (the profiler's `sampling` probe).
for shape in "${shapes[@]}"; do
  log="$work/host-x86-64-$shape-sampled.log"
  echo "[bench] x86-64 $shape fp32 temp=1 topp=0.9"
  "$build/bareflow-host" "$work/random-$shape.bin" "$vocabulary" mode=bench temp=1 topp=0.9 seed=42 prompt="" steps=128 > "$log" 2>&1 || true
  record host "$shape" none "x86-64 sampled" "$log"
done
# The sampler alone: one pick (temp=1, topp=0.9, vocabulary 32000) on the random 15M
# model's own flat logits and on peaked ones such as a trained model gives; medians of five runs.
echo "[bench] sampler alone (bareflow-sampler-bench), five runs"
for _ in 1 2 3 4 5; do "$build/bareflow-sampler-bench" "$work/random-15M.bin"; done > "$work/sampler.jsonl" 2>&1 || true
python3 - "$work/sampler.jsonl" >> "$results" <<'PY'
import json, statistics, sys
runs = [json.loads(l)["sampler"] for l in open(sys.argv[1]) if l.startswith("{")]
row = {"kind": "sampler"}
for key in ("flat_us", "peaked_us", "flat_nucleus", "peaked_nucleus", "flat_top_k_40_us", "flat_cold_us", "peaked_cold_us"):
    row[key] = statistics.median(r[key] for r in runs) if runs and key in runs[0] else None
print(json.dumps(row))
PY

# The TinyLlama-1.1B shape as GGUF (random weights), in the formats people download.
if [ $quick -eq 0 ]; then
  for type in q4_0 q8_0 q4_k q4_k_m q5_k_m q3_k_m; do
    gguf="$work/random-tinyllama-$type.gguf"
    [ "$gguf" -nt "$build/bareflow-convert-gguf" ] || "$build/bareflow-convert-gguf" --random tinyllama "$vocabulary" "$gguf" --type $type >/dev/null
    for arch in x86-64 i686; do
      steps=8; program=("$build/bareflow-host")
      [ "$arch" = i686 ] && steps=2 && program=("$i686_runner" "$build/bareflow-host-i686")
      log="$work/host-$arch-tinyllama-$type.log"
      echo "[bench] $arch TinyLlama-1.1B shape $type steps=$steps"
      "${program[@]}" "$gguf" /dev/null mode=bench temp=0 prompt="" steps=$steps > "$log" 2>&1 || true
      record host "1.1B" "$type" "$arch" "$log"
    done
  done
fi

# Prompt processing: a 64-token prompt runs in batches (each weight tile read once for
# all its tokens); its tok/s against the generation's that follows, on one thread; the
# run with the median prompt figure of three.
prompt64="Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball. She wanted to play with it, but it was too high. Lily asked her mom to help her get the ball down from the big tree"
prompt_runs=("15M none $work/random-15M.bin $vocabulary 128" "15M q8 $work/random-15M.bin $vocabulary 128")
[ $quick -eq 0 ] && prompt_runs+=("1.1B q4_k_m $work/random-tinyllama-q4_k_m.gguf /dev/null 72")
for run in "${prompt_runs[@]}"; do
  read -r name quant weights tokens steps <<< "$run"
  log="$work/host-prompt-$name-$quant.log"
  echo "[bench] x86-64 $name $quant: 64-token prompt in batches, steps=$steps, one thread"
  quant_arg=(); [ "$quant" = q8 ] && quant_arg=(quant=q8)
  for round in 1 2 3; do
    "$build/bareflow-host" "$weights" "$tokens" mode=bench temp=0 prompt="$prompt64" steps=$steps cpus=1 argmax=full "${quant_arg[@]}" > "$log.$round" 2>&1 || true
  done
  median_log=$(python3 - "$log".[123] <<'PY'
import re, sys
def prompt_rate(path):
    m = re.findall(r'"prompt_tok_per_s":([\d.]+)', open(path, errors="replace").read())
    return float(m[-1]) if m else 0.0
print(sorted(sys.argv[1:], key=prompt_rate)[1])
PY
)
  cp "$median_log" "$log"
  record prompt "$name" "$quant" x86-64 "$log"
done

# The batch kernels alone: each interleaved type's ffn_down-shape product, 32 tokens one
# by one and as one batch, in every instruction set this CPU runs (thread CPU time,
# alternating, medians): what a batch can save per type, whatever the rest of the pass costs.
echo "[bench] batch kernels against one-token kernels (bareflow-batch-bench)"
"$build/bareflow-batch-bench" --rounds 9 > "$work/batch-kernels.jsonl" 2>&1 || true
python3 - "$work/batch-kernels.jsonl" >> "$results" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    if line.startswith("{"):
        row = json.loads(line)
        row["kind"] = "batch_kernel"
        print(json.dumps(row))
PY

# llama.cpp's llama-bench on the same files, one thread, interleaved with BareFlow.
if [ -n "${LLAMA_BENCH:-}" ]; then
  for type in f32 q8_0; do
    gguf="$work/random-15M-$type.gguf"
    [ "$gguf" -nt "$work/random-15M.bin" ] || "$build/bareflow-convert-gguf" "$work/random-15M.bin" "$vocabulary" "$gguf" --type $type >/dev/null
  done
  comparisons=("15M F32=$work/random-15M-f32.gguf" "15M Q8_0=$work/random-15M-q8_0.gguf")
  if [ $quick -eq 0 ]; then
    for type in q4_k_m q5_k_m q3_k_m q4_0 q8_0; do
      comparisons+=("1.1B ${type^^}=$work/random-tinyllama-$type.gguf")
    done
    # The newer small chat models' shapes (their vocabularies padded to the real size):
    # Qwen3's head norms, Gemma 3's sliding window and GELU, Gemma 3 1B's Q4_K_M with its
    # Q5_0 rows, Gemma 2's soft caps, Phi-3.5-mini's fused matrices, Granite's multipliers.
    for shape_type in qwen3-0.6b:q8_0 gemma3-270m:q8_0 gemma3-1b:q4_k_m gemma2-2b:q4_k_m phi3.5-mini:q4_k_m granite-3.3-2b:q4_k_m; do
      shape="${shape_type%%:*}" type="${shape_type##*:}" gguf="$work/random-${shape_type/:/-}.gguf"
      [ "$gguf" -nt "$build/bareflow-convert-gguf" ] || "$build/bareflow-convert-gguf" --random "$shape" byte-level "$gguf" --type "$type" >/dev/null
      comparisons+=("$shape ${type^^}=$gguf")
    done
  fi
  echo "[bench] llama.cpp ($LLAMA_BENCH) and BareFlow on the same GGUF files..."
  "$root/scripts/compare_llama_cpp.py" --llama-bench "$LLAMA_BENCH" --bareflow "$build/bareflow-host" \
    --rounds 3 --steps 32 --prompt 64 --jsonl "$results" "${comparisons[@]}" | tee "$work/llama-cpp.txt" || true
fi

# llama2.c's run.c on the same fp32 checkpoints, greedy, on one thread and on all of this
# machine's, interleaved with BareFlow (LLAMA2C_RUN: a build of run.c, with -fopenmp for
# threads; README: "Comparing with llama2.c"); with LLAMA2C_RUNQ (runq.c) also their int8
# exports (llama2.c's version 2, written by bareflow-quantize).
if [ -n "${LLAMA2C_RUN:-}" ]; then
  threads=1; [ "$(nproc)" -gt 1 ] && threads="1,$(nproc)"
  shapes_compared=(15M); [ $quick -eq 0 ] && shapes_compared+=(110M)
  checkpoints=() runq=()
  for shape in "${shapes_compared[@]}"; do
    checkpoints+=("$shape=$work/random-$shape.bin")
    if [ -n "${LLAMA2C_RUNQ:-}" ]; then
      [ "$work/random-$shape-q80.bin" -nt "$work/random-$shape.bin" ] ||
        "$build/bareflow-quantize" "$work/random-$shape.bin" "$work/random-$shape-q80.bin" >/dev/null
      checkpoints+=("$shape int8=$work/random-$shape-q80.bin")
      runq=(--runq "$LLAMA2C_RUNQ")
    fi
  done
  echo "[bench] llama2.c ($LLAMA2C_RUN ${LLAMA2C_RUNQ:-}) and BareFlow on the same checkpoints, threads $threads..."
  "$root/scripts/compare_llama2c.py" --run "$LLAMA2C_RUN" "${runq[@]}" --bareflow "$build/bareflow-host" --tokenizer "$vocabulary" \
    --threads "$threads" --rounds 3 --steps 128 --jsonl "$results" "${checkpoints[@]}" | tee "$work/llama2c.txt" || true
fi

# The work pool on threads: the same fork-join code the kernel runs on its cores.
for shape in "${shapes[@]}"; do
  for cpus in 2; do
    log="$work/host-threads-$shape-$cpus.log"
    echo "[bench] x86-64 $shape fp32 cpus=$cpus"
    "$build/bareflow-host" "$work/random-$shape.bin" "$vocabulary" mode=bench temp=0 prompt="" steps=64 cpus=$cpus argmax=full > "$log" 2>&1 || true
    record host "$shape" none "x86-64 cpus=$cpus" "$log"
  done
done

echo "[bench] QEMU (TCG) boots..."
for model in 260K 15M; do
  if [ "$model" = 260K ]; then weights="$small_model" tokenizer="$small_tokenizer" steps=256
  else weights="$work/random-15M.bin" tokenizer="$vocabulary" steps=64; fi
  "$root/scripts/mkiso.sh" -o "$work/bench-$model.iso" --model "$weights" --tokenizer "$tokenizer" --menu-timeout 0 \
    --cmdline "mode=bench temp=0 prompt=\"\" steps=$steps" >/dev/null
  for tune in auto off; do
    log="$work/qemu-$model-$tune.log"
    echo "[bench] QEMU $model tune=$tune steps=$steps"
    "$root/scripts/boot.sh" "$work/bench-$model.iso" --timeout 600 --cmdline "tune=$tune" > "$log" 2>&1 || true
    record qemu "$model" none "tune=$tune" "$log"
  done
done
# Boot to first token: from QEMU's start to the first generated character on the serial
# line (GRUB loading the modules, the checksum, tuning, the first forward pass), as a
# person booting the CD or the USB stick waits for it; median of three boots.
for model in 260K 15M; do
  if [ "$model" = 260K ]; then weights="$small_model" tokenizer="$small_tokenizer"
  else weights="$work/random-15M.bin" tokenizer="$vocabulary"; fi
  "$root/scripts/mkiso.sh" -o "$work/first-token-$model.iso" --model "$weights" --tokenizer "$tokenizer" --menu-timeout 0 \
    --cmdline 'temp=0 prompt="" steps=8' >/dev/null
  for medium in cd usb; do
    echo "[bench] QEMU $model boot to first token ($medium)"
    runs="$work/first-token-$model-$medium.jsonl"
    : > "$runs"
    for _ in 1 2 3; do
      "$root/scripts/boot_to_first_token.py" "$work/first-token-$model.iso" $([ $medium = usb ] && echo --raw) >> "$runs"
    done
    python3 - "$model" "$medium" "$runs" >> "$results" <<'PY'
import json, statistics, sys
model, medium, path = sys.argv[1:4]
runs = [json.loads(l) for l in open(path) if l.strip()]
row = {"kind": "boot", "model": model, "quant": "none", "arch": medium}
for key in ("kernel_s", "modules_s", "tuned_s", "first_token_s"):
    values = [r[key] for r in runs if r.get(key) is not None]
    row[key] = statistics.median(values) if len(values) == len(runs) else None
print(json.dumps(row))
PY
  done
done

# The boot with the median generation speed of LOG.1 LOG.2 LOG.3, copied to LOG.
median_boot() {
  cp "$(python3 - "$1".[123] <<'PY'
import re, sys
def generation_rate(path):
    m = re.findall(r'"generation_tok_per_s":([\d.]+)', open(path, errors="replace").read())
    return float(m[-1]) if m else 0.0
print(sorted(sys.argv[1:], key=generation_rate)[1])
PY
)" "$1"
}

# TinyLlama shape in QEMU, in each format (Q4_K_M is the file people download): -m 2048.
# Q4_K_M, the format with a target, boots three times (median); the others once.
if [ $quick -eq 0 ]; then
  for type in q4_k_m q4_0 q8_0; do
    "$root/scripts/mkiso.sh" -o "$work/bench-tinyllama.iso" --model "$work/random-tinyllama-$type.gguf" --menu-timeout 0 \
      --cmdline "mode=bench temp=0 prompt=\"\" steps=4" >/dev/null
    log="$work/qemu-tinyllama-$type.log"
    boots=1; [ "$type" = q4_k_m ] && boots=3
    for round in $(seq 1 $boots); do
      echo "[bench] QEMU TinyLlama-1.1B shape $type steps=4 (boot $round of $boots)"
      "$root/scripts/boot.sh" "$work/bench-tinyllama.iso" --timeout 600 --mem 2048 > "$log.$round" 2>&1 || true
    done
    if [ $boots -eq 3 ]; then median_boot "$log"; else cp "$log.1" "$log"; fi
    record qemu "1.1B" "$type" "-m 2048" "$log"
    rm -f "$work/bench-tinyllama.iso"
  done
fi

# A chat's first reply in QEMU: "Hello there" in TinyLlama's chat template (34 tokens) read
# token by token (batch=1) and in batches (batch=32) on one core, and in batches on the
# machine's two cores (-smp 2, the batch's rows split between them), on the TinyLlama
# shape in Q4_K_M; the chat's own timing line says when the first reply token came.
# steps=44 ends the reply after a few tokens.
if [ $quick -eq 0 ]; then
  printf 'Hello there\nexit\n' > "$work/chat-input.txt"
  for run in "1 1" "32 1" "32 2"; do
    read -r batch smp <<< "$run"
    echo "[bench] QEMU TinyLlama-1.1B shape q4_k_m chat, batch=$batch, -smp $smp"
    "$root/tests/boot/boot_test.sh" --name "bench-chat-batch$batch-smp$smp" --kernel "$build/bareflow.elf" \
      --iso-arg --model --iso-arg "$work/random-tinyllama-q4_k_m.gguf" --iso-arg --cmdline --iso-arg "mode=chat temp=0 steps=44 batch=$batch" \
      --stdin "$work/chat-input.txt" --prompt 'you> ' --expect '^\[chat\] read' -- --mem 2048 --smp $smp --timeout 900 >/dev/null 2>&1 || true
    python3 - "$batch" "$smp" "$build/boot-logs/bench-chat-batch$batch-smp$smp.log" >> "$results" <<'PY'
import json, re, sys
batch, smp, path = sys.argv[1:4]
row = {"kind": "chat", "model": "1.1B", "quant": "q4_k_m", "batch": int(batch), "smp": int(smp)}
line = next((l for l in open(path, errors="replace") if l.startswith("[chat] read ")), None)
m = line and re.match(r"\[chat\] read (\d+) tokens in ([\d.]+) s .*first reply token after ([\d.]+) s; (\d+) reply tokens at ([\d.]+) tok/s", line)
if m:
    row.update(prompt_tokens=int(m[1]), read_s=float(m[2]), first_reply_s=float(m[3]), reply_tok_per_s=float(m[5]))
else:
    row["error"] = f"no timing line in {path}"
print(json.dumps(row))
PY
  done
fi

# Cores in QEMU (multi-threaded TCG; this machine has $(nproc) host cores to run them on).
# Single boots vary by up to 1.6x here, so each count boots three times, the three counts
# taking turns, and the boot with the median generation speed is the row.
for model in 260K 15M; do
  for round in 1 2 3; do
    for smp in 1 2 4; do
      echo "[bench] QEMU $model -smp $smp (boot $round of 3)"
      "$root/scripts/boot.sh" "$work/bench-$model.iso" --timeout 600 --smp $smp > "$work/qemu-$model-smp$smp.log.$round" 2>&1 || true
    done
  done
  for smp in 1 2 4; do
    log="$work/qemu-$model-smp$smp.log"
    median_boot "$log"
    record qemu "$model" none "-smp $smp" "$log"
  done
done

python3 - "$results" "$output" "$bandwidth_json" "$bandwidth2_json" <<'PY'
import json, sys, platform
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
bandwidth = json.loads(sys.argv[3])["read_gb_per_s"]
bandwidth2 = json.loads(sys.argv[4])["read_gb_per_s"]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
print()
print(f"BareFlow benchmark on {cpu}; read bandwidth {bandwidth:.1f} GB/s on one thread, {bandwidth2:.1f} GB/s on two "
      f"({bandwidth2 / bandwidth:.2f}x; bareflow-membench, same run)")
print(f"{'where':<8} {'model':<6} {'weights':<7} {'tok/s':>9} {'GB/s':>7} {'of bw':>6}  plan / note")
# The plan entries of the matrix products a row's weights use, and how they prefetch (the
# whole plan is in the JSON).
products = {"none": ["matmul"], "q8": ["matmul_q8x8"], "q4_0": ["gguf_q4_0x8"], "q8_0": ["gguf_q8_0x8"], "q4_k": ["gguf_q4_kx8"],
            "q4_k_m": ["gguf_q4_kx8", "gguf_q6_kx8"], "q5_k_m": ["gguf_q5_kx8", "gguf_q6_kx8"], "q3_k_m": ["gguf_q3_k", "gguf_q4_kx8", "gguf_q5_kx8"]}
def main_kernels(plan, quant):
    wanted = products.get(quant)
    if not plan or not wanted:
        return plan
    return ",".join(e for e in plan.split(",") if e.split(":")[0] in wanted + ["prefetch"])
boots = [r for r in rows if r["kind"] == "boot"]
comparisons = [r for r in rows if r["kind"] == "llama.cpp"]
llama2c = [r for r in rows if r["kind"] == "llama2.c"]
prompts = [r for r in rows if r["kind"] == "prompt"]
batch_kernels = [r for r in rows if r["kind"] == "batch_kernel"]
chats = [r for r in rows if r["kind"] == "chat"]
samplers = [r for r in rows if r["kind"] == "sampler"]
besides = [r for r in rows if r["kind"] == "beside"]
rows = [r for r in rows if r["kind"] in ("host", "qemu")]
for r in rows:
    where = r["arch"] if r["kind"] == "host" else "qemu"
    weights = {"q8": "int8", "none": "fp32"}.get(r["quant"], r["quant"].upper())
    if "error" in r:
        print(f"{where:<8} {r['model']:<6} {weights:<7} {'-':>9} {'-':>7} {'-':>6}  {r['error']}")
        continue
    rate = r["weight_gb_per_s"]
    # Rows on two threads against what two threads can read.
    two_threads = r["kind"] == "host" and r["arch"].startswith("x86-64 cpus=2")
    fraction = f"{100 * rate / (bandwidth2 if two_threads else bandwidth):.0f}%" if r["kind"] == "host" else ""
    note = main_kernels(r.get("plan", ""), r["quant"]) if r["kind"] == "host" else r["arch"]
    if r["kind"] == "host" and r["arch"].startswith("x86-64 cpus"):
        where, note = "x86-64", r["arch"].split(" ", 1)[1] + " (threads)"
    if r["kind"] == "host" and r["arch"] == "i686":
        note = "i686 build (qemu-i386 where the kernel cannot run 32-bit code)"
    if r["kind"] == "host" and r["arch"] == "x86-64 screened":
        where, note = "x86-64", "greedy, screened argmax (the rows above: argmax=full)"
    if r["kind"] == "host" and r["arch"] == "x86-64 sampled":
        where, note = "x86-64", "temp=1 topp=0.9"
        if "sampling_us_per_token" in r:
            note += f": sampling {r['sampling_us_per_token']:.0f} us/token"
    print(f"{where:<8} {r['model']:<6} {weights:<7} {r['tok_per_s']:>9.2f} {rate:>7.2f} {fraction:>6}  {note}")
for r in besides:
    if not r["rounds"]:
        print("fp32 110M beside membench: no result")
        continue
    median = sorted(r["rounds"], key=lambda x: x["share"])[len(r["rounds"]) // 2]
    print(f"fp32 110M beside bareflow-membench (3 alternated rounds; the median round): {median['weight_gb_per_s']:.2f} of "
          f"{median['read_gb_per_s']:.2f} GB/s, {100 * median['share']:.0f}% (rounds: "
          + ", ".join(f"{100 * x['share']:.0f}%" for x in r["rounds"]) + ")")
for r in samplers:
    if r["flat_us"] is None:
        print("sampler alone: no result (bareflow-sampler-bench failed)")
        continue
    print(f"sampler alone (temp=1 topp=0.9, vocabulary 32000, median of 5): flat logits of the random 15M model "
          f"{r['flat_us']:.1f} us/pick (nucleus {r['flat_nucleus']:.0f} tokens), peaked logits {r['peaked_us']:.1f} us/pick "
          f"(nucleus {r['peaked_nucleus']:.0f}); flat with topk=40 {r['flat_top_k_40_us']:.1f} us/pick"
          + (f"; cold caches (as after a forward pass): flat {r['flat_cold_us']:.1f}, peaked {r['peaked_cold_us']:.1f} us/pick"
             if r.get("flat_cold_us") is not None else ""))
if batch_kernels:
    print()
    print(f"Batch kernels (x86-64, one thread, {batch_kernels[0]['rows']}x{batch_kernels[0]['cols']} product, {batch_kernels[0]['tokens']} tokens), us per token:")
    print(f"{'type':<7} {'set':<11} {'one by one':>10} {'batch':>7} {'speed-up':>8} {'same bits':>9}")
    for r in batch_kernels:
        print(f"{r['type']:<7} {r['set']:<11} {r['one_token_us']:>10.1f} {r['batch_us']:>7.1f} {r['speedup']:>7.2f}x {'yes' if r['same_bits'] else 'NO':>9}")
if prompts:
    print()
    print("Prompt processing (x86-64, one thread, 64-token prompt in batches, median of 3) against the generation after it:")
    print(f"{'model':<6} {'weights':<7} {'batch':>5} {'prompt tok/s':>13} {'gen tok/s':>10} {'ratio':>6}")
    for r in prompts:
        weights = {"q8": "int8", "none": "fp32"}.get(r["quant"], r["quant"].upper())
        if "error" in r or "prompt_tok_per_s" not in r:
            print(f"{r['model']:<6} {weights:<7} {'-':>5} {'-':>13} {'-':>10} {'-':>6}  {r.get('error', 'no prompt figures')}")
            continue
        ratio = r["prompt_tok_per_s"] / r["generation_tok_per_s"] if r["generation_tok_per_s"] else 0.0
        print(f"{r['model']:<6} {weights:<7} {r['prompt_batch']:>5} {r['prompt_tok_per_s']:>13.2f} {r['generation_tok_per_s']:>10.2f} {ratio:>5.1f}x")
if chats:
    print()
    print("A chat's first reply in QEMU (TCG), TinyLlama-1.1B shape Q4_K_M, one message in the chat template:")
    print(f"{'batch':>5} {'-smp':>4} {'tokens read':>12} {'read tok/s':>11} {'first reply token':>18} {'reply tok/s':>12}")
    for r in chats:
        if "error" in r:
            print(f"{r['batch']:>5} {r.get('smp', 1):>4} {r['error']}")
            continue
        print(f"{r['batch']:>5} {r.get('smp', 1):>4} {r['prompt_tokens']:>12} {r['prompt_tokens'] / r['read_s']:>11.2f} {r['first_reply_s']:>16.1f} s {r['reply_tok_per_s']:>12.2f}")
if boots:
    print()
    print("Boot to first token in QEMU (TCG), seconds from QEMU's start, median of 3:")
    print(f"{'model':<6} {'boot':<4} {'kernel':>7} {'modules':>8} {'tuned':>7} {'first token':>12}")
    seconds = lambda v: f"{v:.2f}" if v is not None else "-"
    for r in boots:
        print(f"{r['model']:<6} {r['arch']:<4} {seconds(r['kernel_s']):>7} {seconds(r['modules_s']):>8} {seconds(r['tuned_s']):>7} {seconds(r['first_token_s']):>12}")
if comparisons:
    print()
    print("Next to llama.cpp (llama-bench -t 1 -lm none), same GGUF files, medians of interleaved rounds (tok/s):")
    print(f"{'model':<12} {'BareFlow tg':>12} {'llama.cpp tg':>13} {'ratio':>6} {'BareFlow pp64':>14} {'llama.cpp pp64':>15}")
    show = lambda v: f"{v:.2f}" if v is not None else "-"
    for r in comparisons:
        if "error" in r:
            print(f"{r['model']:<12} {r['error']}")
            continue
        ratio = r["bareflow_tg"] / r["llama_tg"] if r.get("llama_tg") else None
        print(f"{r['model']:<12} {show(r['bareflow_tg']):>12} {show(r['llama_tg']):>13} {show(ratio) + 'x':>6} "
              f"{show(r.get('bareflow_pp')):>14} {show(r.get('llama_pp')):>15}")
if llama2c:
    print()
    print("Next to llama2.c (run.c fp32, runq.c int8; OMP_NUM_THREADS threads), greedy, every logit, medians of interleaved rounds (tok/s):")
    print(f"{'model':<9} {'threads':>7} {'BareFlow':>9} {'llama2.c':>9} {'ratio':>6}")
    for r in llama2c:
        if "error" in r:
            print(f"{r['model']:<9} {r['threads']:>7} {r['error']}")
            continue
        print(f"{r['model']:<9} {r['threads']:>7} {r['bareflow_tok_per_s']:>9.2f} {r['llama2c_tok_per_s']:>9.2f} "
              f"{r['bareflow_tok_per_s'] / r['llama2c_tok_per_s']:>5.2f}x")
json.dump({"cpu": cpu, "read_gb_per_s": bandwidth, "read_gb_per_s_two_threads": bandwidth2, "runs": rows, "llama_cpp": comparisons, "llama2c": llama2c, "prompt_runs": prompts, "chat_runs": chats,
           "sampler": samplers, "batch_kernels": batch_kernels, "beside_membench": besides}, open(sys.argv[2], "w"), indent=1)
print(f"\nJSON: {sys.argv[2]}")
PY
