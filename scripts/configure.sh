#!/usr/bin/env bash
# Configures the one build directory that holds the kernel (cross, i686) and every host
# target (tests, hosted app, tools). Usage: scripts/configure.sh [BUILD_DIR]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$root/build}"
if [ -f "$build/build.ninja" ]; then
  exit 0
fi
meson setup "$build" "$root" --cross-file "$root/cross-i686.ini" --native-file "$root/scripts/native-clang.ini"
