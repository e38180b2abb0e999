#!/usr/bin/env bash
# Installs what a fresh Debian/Ubuntu machine lacks: the system library kimi-serve links
# (libnuma), and for the tests curl, Python's venv, systemd-analyze, Chromium (the
# browser-client test drives it headless) and nginx (the router test). Uses sudo when not root;
# safe to run repeatedly.
set -euo pipefail
packages=(libnuma-dev curl)
python3 -c "import ensurepip, venv" 2>/dev/null || packages+=(python3-venv)
command -v systemd-analyze >/dev/null || packages+=(systemd)
command -v chromium >/dev/null || packages+=(chromium)
command -v nginx >/dev/null || packages+=(nginx)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
