#!/usr/bin/env bash
# The test command (README, .ci/run): system libraries, the Swift tests in release, then the
# black-box tests of the built server with the official openai client, requests and curl.
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/install-deps.sh
swift build -c release
swift test -c release
if [ ! -x .venv-tests/bin/pytest ]; then
  python3 -m venv .venv-tests
  .venv-tests/bin/pip install --quiet --disable-pip-version-check openai pytest requests
fi
KIMI_SERVE_BINARY=.build/release/kimi-serve .venv-tests/bin/python -m pytest -q Tests/IntegrationTests
