#!/usr/bin/env bash
# Runs the checks and the test suite with the services it needs. Called by `make test` with the venv's bin directory.
#   - ruff (lint and format) and mypy, configured in pyproject.toml
#   - the system Chromium for the playground's browser tests (Debian package `chromium`)
#   - a throwaway PostgreSQL on loopback, so storage tests run on both databases (TEST_POSTGRES_URL)
#   - a throwaway Redis on loopback, no persistence, for the scale-out tests' queue (TEST_REDIS_URL)
# Set ACCRUAL_TEST_SERVICES=0 to skip them all (the tests that need them then skip with a reason).
set -euo pipefail
BIN="$1"; shift || true
HERE="$(cd "$(dirname "$0")" && pwd)"
if [ "${ACCRUAL_TEST_SERVICES:-1}" = "1" ]; then
  # shellcheck source=/dev/null
  . "$HERE/services.sh"
  services_start
  trap services_stop EXIT
fi
# Lint, format and types first: they take seconds and name the line.
"$BIN/ruff" check .
"$BIN/ruff" format --check .
"$BIN/mypy"
"$BIN/pytest" "$@"
