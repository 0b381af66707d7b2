# Judging a boot's serial log, shared by boot_test.sh (QEMU) and bochs_test.sh (Bochs).
# Source it; then `check_log LOG` applies the arrays expects (regexes the log must match),
# rejects (regexes it must not) and expect_files (files whose text it must contain
# verbatim), calling the caller's fail() for each miss.
check_log() {
  local log="$1" pattern file
  for pattern in "${expects[@]}"; do
    grep -aEq -- "$pattern" "$log" || fail "log lacks /$pattern/"
  done
  for pattern in "${rejects[@]}"; do
    ! grep -aEq -- "$pattern" "$log" || fail "log has /$pattern/: $(grep -aE -m1 -- "$pattern" "$log")"
  done
  for file in "${expect_files[@]}"; do
    python3 - "$log" "$file" <<'PY' || fail "log lacks the text of $file"
import sys
log = open(sys.argv[1], encoding="utf-8", errors="replace").read()
want = open(sys.argv[2], encoding="utf-8").read()
sys.exit(0 if want in log else 1)
PY
  done
}
