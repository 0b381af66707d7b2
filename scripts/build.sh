#!/usr/bin/env bash
# Configures (once) and builds everything. Usage: scripts/build.sh [BUILD_DIR]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$root/build}"
"$root/scripts/configure.sh" "$build"
ninja -C "$build"
