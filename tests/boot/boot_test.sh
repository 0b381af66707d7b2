#!/usr/bin/env bash
# One boot test: builds an ISO, boots it headless in QEMU (always under a timeout), keeps
# the serial log, and judges the run by the exit device's status and the log's lines.
#   boot_test.sh --name NAME --kernel ELF --expect-status success|failure
#                [--expect REGEX]... [--reject REGEX]... [--expect-file FILE]
#                [--models] [--iso-arg ARG]... [--stdin FILE] -- [scripts/boot.sh options]
# --models puts stories260K.bin + tok512.bin from $BAREFLOW_MODELS (or models/) on the ISO;
# when they cannot be found the test is skipped (exit 77) with a message saying why.
# --expect-file: the log must contain that file's text verbatim.
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"

name="" kernel="" expect_status="success" with_models=0 stdin_file=/dev/null
expects=() rejects=() expect_files=() iso_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --name) name="$2"; shift 2 ;;
    --kernel) kernel="$2"; shift 2 ;;
    --expect-status) expect_status="$2"; shift 2 ;;
    --expect) expects+=("$2"); shift 2 ;;
    --reject) rejects+=("$2"); shift 2 ;;
    --expect-file) expect_files+=("$2"); shift 2 ;;
    --models) with_models=1; shift ;;
    --iso-arg) iso_args+=("$2"); shift 2 ;;
    --stdin) stdin_file="$2"; shift 2 ;;
    --) shift; break ;;
    *) echo "boot_test: unknown argument $1" >&2; exit 2 ;;
  esac
done

logs="$(dirname "$kernel")/boot-logs"
mkdir -p "$logs"
log="$logs/$name.log"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

if [ "$with_models" -eq 1 ]; then
  models="${BAREFLOW_MODELS:-$root/models}"
  if [ ! -f "$models/stories260K.bin" ] || [ ! -f "$models/tok512.bin" ]; then
    echo "SKIP: stories260K.bin and tok512.bin not found in '$models': set BAREFLOW_MODELS to a folder holding them"
    exit 77
  fi
  iso_args+=(--model "$models/stories260K.bin" --tokenizer "$models/tok512.bin")
fi

"$root/scripts/mkiso.sh" -o "$work/test.iso" --kernel "$kernel" --menu-timeout 0 "${iso_args[@]}" || exit 1
"$root/scripts/boot.sh" "$work/test.iso" "$@" < "$stdin_file" > "$log" 2>&1
status=$?
# GRUB's menu drawing leaves terminal escapes in the log: strip them for matching.
sed -e 's/\x1b\[[0-9;?]*[A-Za-z]//g' -e 's/\r$//' "$log" > "$work/clean.log"

failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
case "$expect_status" in
  success) [ $status -eq 0 ] || fail "expected the kernel to report success, boot.sh exited $status" ;;
  failure) [ $status -eq 1 ] || fail "expected the kernel to report failure (boot.sh status 1), got $status" ;;
esac
for pattern in "${expects[@]}"; do
  grep -Eq -- "$pattern" "$work/clean.log" || fail "log lacks /$pattern/"
done
for pattern in "${rejects[@]}"; do
  ! grep -Eq -- "$pattern" "$work/clean.log" || fail "log has /$pattern/: $(grep -E -m1 -- "$pattern" "$work/clean.log")"
done
for file in "${expect_files[@]}"; do
  python3 - "$work/clean.log" "$file" <<'PY' || fail "log lacks the text of $file"
import sys
log = open(sys.argv[1], encoding="utf-8", errors="replace").read()
want = open(sys.argv[2], encoding="utf-8").read()
sys.exit(0 if want in log else 1)
PY
done

if [ $failures -ne 0 ]; then
  echo "---- serial log ($log) ----"
  tail -n 60 "$work/clean.log"
  exit 1
fi
echo "PASS: $name (log: $log)"
