#!/usr/bin/env bash
# The OpenLDAP intake benchmark: an initial sync of N inetOrgPerson entries
# from a local slapd into dirledger's event log, side by side in the same run
# with the floor (a plain `ldapsearch -E sync=ro` of the same entries and
# attributes to /dev/null) and a real slapd syncrepl consumer replicating
# them; then the persist-mode latency of single modifies. Prints key=value
# figures; docs/performance.md ("OpenLDAP intake") has them with this command.
#
# Usage: tools/bench/openldap_bench.sh [WORKDIR] [N]
#   WORKDIR  default /tmp/dirledger-openldap-bench (wiped first)
#   N        entries, default 100000
# env: BUILD_DIR (default ./build, built with -DDIRLEDGER_BENCH=ON),
#      PORT (default 3940; the consumer uses PORT+2), LATENCY_N (1000),
#      INTAKE=driver|dirledger|both: what "dirledger" means in the
#      comparison. driver: the openldap_intake driver, the syncrepl source
#      delivering into the event log without the reconciler (what compares
#      with the consumer and the floor). dirledger: `dirledger run --once`,
#      the whole engine (intake, decisions, and the writes into the embedded
#      mail directory). Default: both when the dirledger command has
#      `run --once` and N <= 20000 (the whole engine writes every account to
#      the mail side), else driver.
# Every slapd started here is stopped by its PID at the end.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HARNESS=$ROOT/tests/harness/slapd.sh
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
W=${1:-/tmp/dirledger-openldap-bench}
N=${2:-100000}
PORT=${PORT:-3940}
LATENCY_N=${LATENCY_N:-1000}
BASE="dc=example,dc=com"
ADMIN="cn=admin,$BASE"
DRIVER=$BUILD_DIR/tools/bench/openldap_intake
DIRLEDGER=$BUILD_DIR/tools/dirledger/dirledger

[[ -x $DRIVER ]] || { echo "build first: cmake -S . -B build -DDIRLEDGER_BENCH=ON && cmake --build build -j2" >&2; exit 2; }
command -v /usr/bin/time >/dev/null || { echo "needs GNU time (package time)" >&2; exit 2; }
if [[ -z ${INTAKE:-} ]]; then
  INTAKE=driver
  if "$DIRLEDGER" run --help 2>/dev/null | grep -q -- --once && ((N <= 20000)); then
    INTAKE=both
  fi
fi

mkdir -p "$W"
W=$(cd "$W" && pwd)
for d in prov cons; do "$HARNESS" stop "$W/$d" 2>/dev/null || true; done
rm -rf "$W/prov" "$W/cons" "$W/data" "$W/data-engine" "$W/people.ldif"
trap 'for d in prov cons; do "$HARNESS" stop "$W/$d" 2>/dev/null || true; done' EXIT

now() { date +%s.%N; }
since() { echo "$(now) - $1" | bc -l | xargs printf '%.2f'; }
# measure NAME CMD...: wall seconds and peak RSS (KiB) of CMD, as NAME_s / NAME_rss_kib
measure() {
  local name=$1; shift
  /usr/bin/time -f "%e %M" -o "$W/time.txt" "$@"
  read -r secs rss < "$W/time.txt"
  echo "${name}_s=$secs"
  echo "${name}_peak_rss_kib=$rss"
}
csn() {
  ldapsearch -x -LLL -H "$1" -D "$ADMIN" -y "$W/prov/admin.pw" -b "$BASE" -s base contextCSN 2>/dev/null |
    sed -n 's/^contextCSN: //p' | sort | tail -1
}

echo "entries=$N intake=$INTAKE host_cpus=$(nproc)"
"$HARNESS" people "$N" > "$W/people.ldif"
t=$(now)
P=$("$HARNESS" start "$W/prov" "$PORT" "$W/people.ldif" | tail -1)
echo "provider_slapadd_and_start_s=$(since "$t") provider=$P"

CFG=$W/dirledger.toml
cat > "$CFG" <<TOML
data_dir = "$W/data"
batch_size = 1000
fsync = true

[mail]
kind = "embedded"

[[connector]]
name = "corp"
server_type = "openldap"
uris = ["$P"]
bind_dn = "$ADMIN"
bind_password_file = "$W/prov/admin.pw"
timeout_s = 10
direction = "ldap_to_axigen"
account_base_dn = "ou=people,%D"
group_sync = false

[[domain]]
name = "example.com"
ldap_sync = true
connector = "corp"
TOML

# The same search the source sends.
IFS=$'\t' read -r SBASE SFILTER SATTRS < <("$DRIVER" --config "$CFG" --print-search)
rm -rf "$W/data"
echo "search_base=$SBASE filter=$SFILTER attributes=$SATTRS"

# 1. The floor: a refreshOnly sync search of the same entries to /dev/null.
# shellcheck disable=SC2086
measure floor_ldapsearch_sync_ro sh -c 'exec "$@" > /dev/null' sh \
  ldapsearch -x -H "$P" -D "$ADMIN" -y "$W/prov/admin.pw" \
  -b "$SBASE" -E sync=ro "$SFILTER" $SATTRS

# 2. dirledger: initial sync into the event log (fsync'ed commits).
if [[ $INTAKE == driver || $INTAKE == both ]]; then
  measure dirledger_intake "$DRIVER" --config "$CFG" | tee "$W/intake.txt"
  echo "dirledger_log_size=$(du -sh "$W/data" | cut -f1)"
fi
if [[ $INTAKE == dirledger || $INTAKE == both ]]; then
  sed "s#^data_dir = .*#data_dir = \"$W/data-engine\"#" "$CFG" > "$W/engine.toml"
  measure dirledger_run_once "$DIRLEDGER" --config "$W/engine.toml" run --once
  [[ -d $W/data ]] || cp -r "$W/data-engine" "$W/data"  # the latency step resumes there
fi

# 3. A slapd syncrepl consumer replicating the same provider, until its
#    contextCSN matches the provider's.
PC=$(csn "$P")
t=$(now)
C=$("$HARNESS" consumer "$W/cons" $((PORT + 2)) "$P" | tail -1)
until [[ "$(csn "$C")" == "$PC" ]]; do sleep 0.05; done
echo "slapd_consumer_initial_sync_s=$(since "$t")"
echo "slapd_consumer_rss_kib=$(ps -o rss= -p "$(cat "$W/cons/slapd.pid")" | tr -d ' ')"
"$HARNESS" stop "$W/cons"

# 4. Persist mode: single modifies, each timed until its event is durable.
measure dirledger_persist "$DRIVER" --config "$CFG" --latency "$LATENCY_N" \
  --dn-format "uid=user%06d,ou=people,$BASE" --attr title
