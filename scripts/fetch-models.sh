#!/usr/bin/env bash
# Downloads TinyStories checkpoints (llama2.c format) into models/ (or $BAREFLOW_MODELS).
#   scripts/fetch-models.sh [stories15M|stories42M|stories110M|stories260K|tinyllama-q4km|tinyllama-q8|qwen3-0.6b|gemma3-270m|gemma2-2b|phi3.5-mini|granite-3.3-2b]...
# Default: stories15M + the 32000-token tokenizer.bin. Files already present are kept.
# tinyllama-*: TinyLlama-1.1B-Chat v1.0 as GGUF (~670 MB Q4_K_M, ~1.2 GB Q8_0), for mode=chat.
# qwen3-0.6b: Qwen3-0.6B Q8_0 (~640 MB, Qwen's own GGUF); gemma3-270m: Gemma 3 270M
# instruction-tuned Q8_0 (~290 MB, ggml-org's GGUF); gemma2-2b: Gemma 2 2B instruction-tuned
# Q4_K_M (~1.7 GB, bartowski's GGUF); phi3.5-mini: Phi-3.5-mini-instruct Q4_K_M (~2.4 GB,
# bartowski's GGUF); granite-3.3-2b: Granite 3.3 2B instruct Q4_K_M (~1.5 GB, IBM's GGUF).
# All for mode=chat (not downloaded on the machines this
# was written on: no network there).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="${BAREFLOW_MODELS:-$root/models}"
hf="https://huggingface.co/karpathy/tinyllamas/resolve/main"
tinyllama="https://huggingface.co/TheBloke/TinyLlama-1.1B-Chat-v1.0-GGUF/resolve/main"
qwen3="https://huggingface.co/Qwen/Qwen3-0.6B-GGUF/resolve/main"
gemma3="https://huggingface.co/ggml-org/gemma-3-270m-it-GGUF/resolve/main"
gemma2="https://huggingface.co/bartowski/gemma-2-2b-it-GGUF/resolve/main"
phi35="https://huggingface.co/bartowski/Phi-3.5-mini-instruct-GGUF/resolve/main"
granite="https://huggingface.co/ibm-granite/granite-3.3-2b-instruct-GGUF/resolve/main"
tokenizer_url="https://raw.githubusercontent.com/karpathy/llama2.c/master/tokenizer.bin"
tokenizer_sha256="50a52ef822ee9e83de5ce9d0be0a025a773d019437f58b5ff9dcafb063ece361"

fetch() { # url file
  local url="$1" file="$2"
  [ -s "$dest/$file" ] && { echo "[models] $file already in $dest"; return 0; }
  echo "[models] downloading $file from $url"
  if ! curl -fL --retry 2 --connect-timeout 15 -o "$dest/$file.part" "$url"; then
    rm -f "$dest/$file.part"
    cat >&2 <<MSG
[models] could not download $file: the network is unreachable or refused ($url).
BareFlow still runs offline on the stories260K model shipped in app/default_model/
(scripts/run.sh picks it). For a bigger one, copy a llama2.c checkpoint and its
tokenizer into $dest yourself, for example
  stories15M.bin + tokenizer.bin   (https://huggingface.co/karpathy/tinyllamas)
or point BAREFLOW_MODELS at a folder that has them.
MSG
    exit 1
  fi
  mv "$dest/$file.part" "$dest/$file"
}

mkdir -p "$dest"
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(stories15M)
for name in "${names[@]}"; do
  case "$name" in
    stories15M|stories42M|stories110M)
      fetch "$hf/$name.bin" "$name.bin"
      fetch "$tokenizer_url" tokenizer.bin
      echo "$tokenizer_sha256  $dest/tokenizer.bin" | sha256sum -c --quiet - || { echo "[models] tokenizer.bin checksum mismatch" >&2; exit 1; } ;;
    stories260K)
      fetch "$hf/stories260K/stories260K.bin" stories260K.bin
      fetch "$hf/stories260K/tok512.bin" tok512.bin ;;
    tinyllama-q4km) fetch "$tinyllama/tinyllama-1.1b-chat-v1.0.Q4_K_M.gguf" tinyllama-1.1b-chat-v1.0.Q4_K_M.gguf ;;
    tinyllama-q8) fetch "$tinyllama/tinyllama-1.1b-chat-v1.0.Q8_0.gguf" tinyllama-1.1b-chat-v1.0.Q8_0.gguf ;;
    qwen3-0.6b) fetch "$qwen3/Qwen3-0.6B-Q8_0.gguf" Qwen3-0.6B-Q8_0.gguf ;;
    gemma3-270m) fetch "$gemma3/gemma-3-270m-it-Q8_0.gguf" gemma-3-270m-it-Q8_0.gguf ;;
    gemma2-2b) fetch "$gemma2/gemma-2-2b-it-Q4_K_M.gguf" gemma-2-2b-it-Q4_K_M.gguf ;;
    phi3.5-mini) fetch "$phi35/Phi-3.5-mini-instruct-Q4_K_M.gguf" Phi-3.5-mini-instruct-Q4_K_M.gguf ;;
    granite-3.3-2b) fetch "$granite/granite-3.3-2b-instruct-Q4_K_M.gguf" granite-3.3-2b-instruct-Q4_K_M.gguf ;;
    *) echo "fetch-models: unknown model '$name' (stories15M, stories42M, stories110M, stories260K, tinyllama-q4km, tinyllama-q8, qwen3-0.6b," \
         "gemma3-270m, gemma2-2b, phi3.5-mini, granite-3.3-2b)" >&2; exit 2 ;;
  esac
done
