#!/usr/bin/env bash
# Builds kimi-serve in release mode and installs it as a systemd service:
#   /usr/local/bin/kimi-serve                 the binary (the demo checkpoint is linked into it)
#   /etc/systemd/system/kimi-serve.service    the unit (Type=notify, watchdog, hardening)
#   /etc/kimi-serve/kimi-serve.env            settings (KIMI_* variables), kept if it exists
#   user and group kimi-serve                 the service's own account
# Then: edit the env file (KIMI_MODEL=/path/to/Kimi-K2-Instruct), `systemctl enable --now kimi-serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
PREFIX=${PREFIX:-/usr/local}
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"

Scripts/install-deps.sh
swift build -c release
$sudo install -D -m 0755 .build/release/kimi-serve "$PREFIX/bin/kimi-serve"
sed "s|/usr/local/bin/kimi-serve|$PREFIX/bin/kimi-serve|" Scripts/kimi-serve.service | $sudo tee /etc/systemd/system/kimi-serve.service >/dev/null
if ! getent passwd kimi-serve >/dev/null; then
  $sudo useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin kimi-serve
fi
if [ ! -f /etc/kimi-serve/kimi-serve.env ]; then
  $sudo install -d -m 0755 /etc/kimi-serve
  $sudo tee /etc/kimi-serve/kimi-serve.env >/dev/null <<'ENV'
# kimi-serve settings: every `kimi-serve serve` option as KIMI_<OPTION> (see `kimi-serve serve --help`).
# Without KIMI_MODEL the embedded demo checkpoint is served.
#KIMI_MODEL=/srv/models/Kimi-K2-Instruct
#KIMI_HOST=0.0.0.0
#KIMI_PORT=8000
#KIMI_API_KEY_FILE=/etc/kimi-serve/api-keys
#KIMI_PRELOAD=1
#KIMI_LOG_FORMAT=json
ENV
fi
if [ -d /run/systemd/system ]; then
  $sudo systemctl daemon-reload
  echo "installed; start it with: systemctl enable --now kimi-serve"
else
  echo "installed (systemd is not running here: start $PREFIX/bin/kimi-serve serve by hand)"
fi
