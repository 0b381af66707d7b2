#!/usr/bin/env bash
# Installs what BareFlow needs to build, boot and test on Debian 12 (as root or via sudo).
# Only missing packages are installed, so running it again is quick.
set -euo pipefail

packages=(
  clang lld nasm meson ninja-build pkg-config binutils libclang-rt-14-dev
  googletest libgtest-dev
  grub-common grub-pc-bin grub-efi-amd64-bin xorriso mtools
  qemu-system-x86 ovmf
  bochs bochsbios vgabios bochs-term tmux
  gcc-multilib g++-multilib qemu-user python3 python3-regex python3-jinja2 ca-certificates curl
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "[deps] all ${#packages[@]} packages present"
  exit 0
fi

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "[deps] installing: ${missing[*]}"
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
