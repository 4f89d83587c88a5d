#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite: unit tests
# and integration tests against real slapd and Samba servers started on
# 127.0.0.1. Prints a summary at the end; exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
bash scripts/install-deps.sh
bash scripts/build.sh
echo "== tests"
ctest --test-dir build --output-on-failure -j "${TEST_JOBS:-2}" --timeout 1800
echo "== all tests passed in $(( $(date +%s) - start )) s"
