#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) into build-fuzz and
# runs each for FUZZ_SECONDS (default 30) from its committed seed corpus.
# New inputs found go to a scratch corpus, never into the source tree.
# Prints executions per target; exits non-zero on any crash.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${FUZZ_SECONDS:-30}
BUILD=build-fuzz
CC=clang CXX=clang++ cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DDIRLEDGER_FUZZ=ON -DDIRLEDGER_BENCH=OFF -DDIRLEDGER_WERROR=ON >/dev/null
targets=(config ldif event decision axigen_reply checkpoint)
cmake --build "$BUILD" -j "${JOBS:-$(nproc)}" --target "${targets[@]/%/_fuzz}"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
total=0
for t in "${targets[@]}"; do
  mkdir -p "$scratch/$t"
  log="$scratch/$t.log"
  if ! "$BUILD/tests/fuzz/${t}_fuzz" -max_total_time="$SECONDS_EACH" -max_len=65536 \
      -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$scratch/" "$scratch/$t" "tests/fuzz/corpus/$t" >"$log" 2>&1; then
    echo "fuzz: $t FAILED"; tail -40 "$log"; exit 1
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  echo "fuzz: $t ${runs:-0} executions in ${SECONDS_EACH} s, no crash"
  total=$((total + ${runs:-0}))
done
echo "fuzz: total $total executions"
