#!/usr/bin/env bash
# The state as of a record, from a projection checkpoint and from the first
# record (not a test): N entries synced into a fresh data dir by
# tools/bench/log_bytes_bench.sh, then `verify` (which writes the
# checkpoint of the log's last record), then, RUNS times each, alternating,
# `rollback --to LAST --dry-run` and `export --side mail --at LAST` with and
# without `--full-replay`: wall time and peak RSS of each, and the size of
# the checkpoint. docs/performance.md ("The state as of a record") has the
# figures.
#
# Usage: tools/bench/checkpoint_bench.sh [WORKDIR] [N] [DIRLEDGER]
#   WORKDIR    default /tmp/dirledger-checkpoint-bench (wiped first)
#   N          entries, default 10000
#   DIRLEDGER  the binary, default ./build/tools/dirledger/dirledger
# env: PORT (default 4206, the slapd of the sync, stopped by its PID once
# the sync is done), RUNS (default 2).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
W=${1:-/tmp/dirledger-checkpoint-bench}
N=${2:-10000}
DIRLEDGER=${3:-$ROOT/build/tools/dirledger/dirledger}
RUNS=${RUNS:-2}
"$ROOT/tools/bench/log_bytes_bench.sh" "$W" "$N" "$DIRLEDGER" | grep run_once
W=$(cd "$W" && pwd)
CONFIG=$W/dirledger.toml
last=$("$DIRLEDGER" --config "$CONFIG" status --json | python3 -c '
import json, sys
for line in sys.stdin:
    j = json.loads(line)
    if j.get("type") == "log":
        print(j["last_seq"])')
/usr/bin/time -f '%e %M' -o "$W/time.txt" \
  "$DIRLEDGER" --config "$CONFIG" verify > "$W/verify.out" 2>/dev/null
read -r wall_s peak_kib < "$W/time.txt"
grep -q "projection checkpoint written" "$W/verify.out" ||
  { cat "$W/verify.out" >&2; exit 1; }
echo "records=$last"
echo "verify_s=$wall_s verify_peak_rss_kib=$peak_kib"
echo "checkpoint_bytes=$(du -b "$W"/data/checkpoints/*.ckpt | cut -f1)"
measure() {  # NAME ARGS...: one run, its wall time and peak RSS
  local name=$1; shift
  /usr/bin/time -f '%e %M' -o "$W/time.txt" \
    "$DIRLEDGER" --config "$CONFIG" "$@" > /dev/null 2> "$W/$name.err" ||
    { tail -5 "$W/$name.err" >&2; exit 1; }
  read -r wall_s peak_kib < "$W/time.txt"
  echo "$name s=$wall_s peak_rss_kib=$peak_kib"
}
for ((i = 1; i <= RUNS; i++)); do
  measure rollback_from_checkpoint rollback --to "$last" --dry-run
  measure rollback_full_replay rollback --to "$last" --dry-run --full-replay
  measure export_from_checkpoint export --side mail --at "$last"
  measure export_full_replay export --side mail --at "$last" --full-replay
done
grep -q "projection checkpoint of record $last" "$W/export_from_checkpoint.err" ||
  { echo "the export did not start from the checkpoint" >&2; exit 1; }
