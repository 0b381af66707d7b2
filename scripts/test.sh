#!/usr/bin/env bash
# Installs what is missing, builds everything and runs every test: host unit tests and
# boot tests of the real ISO in QEMU. Models for the inference tests come from
# $BAREFLOW_MODELS (default: models/ in the repo; scripts/fetch-models.sh fills it).
#   scripts/test.sh [meson test options, e.g. --suite host]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh" "$root/build"
meson test -C "$root/build" --print-errorlogs "$@"
