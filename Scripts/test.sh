#!/usr/bin/env bash
# The test command (README, .ci/run): system libraries, the formatting check, the Swift tests in
# release, then the black-box tests of the built server with the official openai client,
# requests, curl and nginx, and of the Kubernetes manifests against the API schema, then a
# bounded fuzzing run.
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/install-deps.sh
# Every Swift file as swift-format (the toolchain's) writes it with .swift-format; fix with
#   swift format format -i --recursive --parallel Package.swift Sources Tests Fuzz/Package.swift Fuzz/Sources
swift format lint --strict --recursive --parallel Package.swift Sources Tests Fuzz/Package.swift Fuzz/Sources
swift build -c release
swift test -c release
if ! .venv-tests/bin/python -c "import openai, anthropic, pytest, requests, jsonschema, rfc3339_validator, kubernetes_validate" 2>/dev/null; then
  python3 -m venv .venv-tests
  .venv-tests/bin/pip install --quiet --disable-pip-version-check openai anthropic pytest requests jsonschema rfc3339-validator \
    kubernetes-validate
fi
KIMI_SERVE_BINARY=.build/release/kimi-serve .venv-tests/bin/python -m pytest -q Tests/IntegrationTests
# Every libFuzzer target of Fuzz/ for 60 s over its seed corpus (its own debug build with
# address sanitizer, ~2 min on 2 cores); a crash, hang or OOM fails the run.
Scripts/fuzz.sh --seconds 60
