#!/usr/bin/env bash
# Configures and builds dirledger into BUILD_DIR (default ./build), with
# warnings as errors (the development and CI setting; a plain cmake build
# leaves DIRLEDGER_WERROR off). Extra arguments go to cmake, e.g.
# -DDIRLEDGER_SANITIZE=ON. ccache is used when it is installed. TARGET names
# one target to build instead of all (e.g. dirledger_unit_tests).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
JOBS=${JOBS:-$(nproc)}
launcher=()
if command -v ccache >/dev/null 2>&1; then
  launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  # Paths relative to the checkout, so that a clone in another directory
  # (a CI run, a second working copy) hits the same cache entries.
  export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$PWD}
fi
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo} \
  -DDIRLEDGER_WERROR=ON "${launcher[@]}" "$@" >/dev/null
cmake --build "$BUILD_DIR" -j "$JOBS" ${TARGET:+--target "$TARGET"}
