#!/usr/bin/env bash
# Runs one libFuzzer target for a bounded time from its seed corpus, in a fresh working
# corpus (so every run starts from the same seeds). A crash, leak, sanitizer report or
# slow input fails the test; the input that did it is kept in build/fuzz-artifacts/ and
# can be replayed with: FUZZER ARTIFACT
#   run_fuzzer.sh FUZZER NAME SECONDS SEED_DIR... -- [libFuzzer flags]
set -uo pipefail
fuzzer="$1" name="$2" seconds="$3"
shift 3
seed_dirs=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do seed_dirs+=("$1"); shift; done
[ "${1:-}" = "--" ] && shift
artifacts="$(dirname "$fuzzer")/../fuzz-artifacts"
mkdir -p "$artifacts"
artifacts="$(cd "$artifacts" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
for dir in "${seed_dirs[@]}"; do
  [ -d "$dir" ] || { echo "run_fuzzer: no seed corpus at $dir" >&2; exit 1; }
done
# -error_exitcode: libFuzzer's default, 77, is what meson reads as "skipped".
"$fuzzer" -max_total_time="$seconds" -seed=1 -error_exitcode=1 -rss_limit_mb=2048 -timeout=20 -print_final_stats=1 \
  -artifact_prefix="$artifacts/$name-" "$@" "$work" "${seed_dirs[@]}"
status=$?
if [ $status -ne 0 ]; then
  echo "run_fuzzer: $name failed (status $status); reproducer(s):"
  ls -t "$artifacts"/"$name"-* 2>/dev/null | head -3 | sed "s|^|  $fuzzer |"
fi
exit $status
