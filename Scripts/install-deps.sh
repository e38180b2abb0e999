#!/usr/bin/env bash
# Installs the system libraries kimi-serve links (OpenBLAS, libnuma) if they are missing.
# Debian/Ubuntu; uses sudo when not root. Safe to run repeatedly.
set -euo pipefail
packages=(libopenblas-dev libnuma-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
