#!/usr/bin/env bash
# The OpenLDAP intake benchmark (not a test): N inetOrgPerson entries synced
# from a local slapd by `dirledger run --once` into the log AND the embedded
# mail directory (the whole pipeline: syncrepl refresh, reconcile, apply to
# the mail directory, outcomes, the mail side's echoes), side by side in the
# same run with
#   - the floor: a plain `ldapsearch -E sync=ro` of the same search (base,
#     filter, attributes) to /dev/null;
#   - a slapd syncrepl consumer (tests/harness/slapd.sh consumer) replicating
#     the same provider, timed until its contextCSN equals the provider's;
# each RUNS times, alternating, medians reported. Then RUNS incremental
# passes after INCR_N modifies each, dirledger against a plain
# `ldapsearch -E sync=ro/<cookie>` of them. Then the persist mode:
# `dirledger run` as a daemon, LATENCY_N single modifies one at a time, each
# timed until the mail directory holds it and until its outcome is in the log
# (tools/bench/persist_latency). Prints key=value figures;
# docs/performance.md ("OpenLDAP intake") has them with this command.
#
# Usage: tools/bench/openldap_bench.sh [WORKDIR] [N]
#   WORKDIR  default /tmp/dirledger-openldap-bench (wiped first)
#   N        entries, default 100000
# env: BUILD_DIR (default ./build, configured with -DDIRLEDGER_BENCH=ON),
#      PORT (default 4200; the consumer uses PORT+2), RUNS (default 3),
#      LATENCY_N (default 1000), INCR_N (default 100), FSYNC (default true).
# Every slapd and dirledger started here is stopped by its PID at the end.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HARNESS=$ROOT/tests/harness/slapd.sh
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
W=${1:-/tmp/dirledger-openldap-bench}
N=${2:-100000}
PORT=${PORT:-4200}
RUNS=${RUNS:-3}
LATENCY_N=${LATENCY_N:-1000}
BASE="dc=example,dc=com"
ADMIN="cn=admin,$BASE"
DIRLEDGER=$BUILD_DIR/tools/dirledger/dirledger
SEARCH=$BUILD_DIR/tools/bench/openldap_intake
LATENCY=$BUILD_DIR/tools/bench/persist_latency

for b in "$DIRLEDGER" "$SEARCH" "$LATENCY"; do
  [[ -x $b ]] || { echo "build first: cmake -S . -B build -DDIRLEDGER_BENCH=ON && cmake --build build -j2 ($b is missing)" >&2; exit 2; }
done
command -v /usr/bin/time >/dev/null || { echo "needs GNU time (package time)" >&2; exit 2; }

mkdir -p "$W"
W=$(cd "$W" && pwd)
DAEMON_PID=
cleanup() {
  [[ -n $DAEMON_PID ]] && kill -TERM "$DAEMON_PID" 2>/dev/null && wait "$DAEMON_PID" 2>/dev/null
  for d in prov cons; do "$HARNESS" stop "$W/$d" 2>/dev/null || true; done
}
trap cleanup EXIT
for d in prov cons; do "$HARNESS" stop "$W/$d" 2>/dev/null || true; done
rm -rf "$W/prov" "$W/cons" "$W/data" "$W/people.ldif"

now() { echo "$EPOCHREALTIME"; }
since() { echo "$(now) - $1" | bc -l | xargs printf '%.3f'; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
load() { cut -d' ' -f1-3 /proc/loadavg; }
# timed NAME CMD...: runs CMD under GNU time; sets T_S (wall s) and T_KIB (peak RSS)
timed() {
  local name=$1; shift
  /usr/bin/time -f "%e %M" -o "$W/time.$name" "$@"
  read -r T_S T_KIB < "$W/time.$name"
}
csn() {
  ldapsearch -x -LLL -H "$1" -D "$ADMIN" -y "$W/prov/admin.pw" -b "$BASE" -s base contextCSN 2>/dev/null |
    sed -n 's/^contextCSN: //p' | sort | tail -1
}

echo "entries=$N runs=$RUNS host_cpus=$(nproc) load_at_start=\"$(load)\""
"$HARNESS" people "$N" > "$W/people.ldif"
t=$(now)
P=$("$HARNESS" start "$W/prov" "$PORT" "$W/people.ldif" | tail -1)
echo "provider_slapadd_and_start_s=$(since "$t") provider=$P"

CFG=$W/dirledger.toml
cat > "$CFG" <<TOML
data_dir = "$W/data"
batch_size = 1000
fsync = ${FSYNC:-true}

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

# The search the syncrepl source sends.
IFS=$'\t' read -r SBASE SFILTER SATTRS < <("$SEARCH" --config "$CFG" --print-search)
# Split on spaces into words, never expanded as paths: the list holds "*"
# (every user attribute), which an unquoted $SATTRS turned into the names
# of the files in the current directory.
read -r -a SATTR_LIST <<< "$SATTRS"
rm -rf "$W/data"
echo "search_base=$SBASE filter=$SFILTER attributes=$SATTRS"
PC=$(csn "$P")

FL_S=() FL_K=() DL_S=() DL_K=() CO_S=() CO_K=()
for r in $(seq 1 "$RUNS"); do
  # 1. The floor: a refreshOnly sync search of the same entries to /dev/null.
  timed floor sh -c 'exec "$@" > /dev/null' sh \
    ldapsearch -x -H "$P" -D "$ADMIN" -y "$W/prov/admin.pw" \
    -b "$SBASE" -E sync=ro "$SFILTER" "${SATTR_LIST[@]}"
  FL_S+=("$T_S") FL_K+=("$T_KIB")

  # 2. dirledger run --once from an empty data dir: the whole pipeline.
  rm -rf "$W/data"
  l=$(load)
  timed dirledger "$DIRLEDGER" --config "$CFG" run --once 2> "$W/run.$r.log"
  DL_S+=("$T_S") DL_K+=("$T_KIB")
  summary=$(grep '^run: ' "$W/run.$r.log" | tail -1 || true)
  [[ -z $summary ]] && summary=$(tail -1 "$W/run.$r.log")

  # 3. A slapd syncrepl consumer, until its contextCSN equals the provider's.
  "$HARNESS" stop "$W/cons" 2>/dev/null || true
  rm -rf "$W/cons"
  t=$(now)
  C=$("$HARNESS" consumer "$W/cons" $((PORT + 2)) "$P" | tail -1)
  until [[ "$(csn "$C")" == "$PC" ]]; do sleep 0.02; done
  CO_S+=("$(since "$t")")
  CO_K+=("$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$(cat "$W/cons/slapd.pid")/status")")
  "$HARNESS" stop "$W/cons"

  echo "run $r (load before: $l): floor ${FL_S[-1]} s, dirledger ${DL_S[-1]} s (peak RSS ${DL_K[-1]} KiB; $summary), consumer ${CO_S[-1]} s"
done

mails=$("$DIRLEDGER" --config "$CFG" mail list --json | wc -l)
events=$("$DIRLEDGER" --config "$CFG" status --json | grep -o '"last_seq":[0-9]*' | head -1 | cut -d: -f2 || true)
FL=$(printf '%s\n' "${FL_S[@]}" | median)
DL=$(printf '%s\n' "${DL_S[@]}" | median)
CO=$(printf '%s\n' "${CO_S[@]}" | median)
cat <<EOF
floor_ldapsearch_sync_ro_s=$FL   (runs: ${FL_S[*]}; peak RSS KiB: ${FL_K[*]})
dirledger_run_once_s=$DL   (runs: ${DL_S[*]}; peak RSS KiB: ${DL_K[*]})
slapd_consumer_s=$CO   (runs: ${CO_S[*]}; peak RSS KiB: ${CO_K[*]})
dirledger_over_floor=$(echo "$DL / $FL" | bc -l | xargs printf '%.2f')   (goal <= 2)
dirledger_over_consumer=$(echo "$DL / $CO" | bc -l | xargs printf '%.2f')   (goal <= 1)
dirledger_mail_accounts=$mails log_last_seq=${events:-?} data_size=$(du -sh "$W/data" | cut -f1)
EOF

# 4. Incremental passes: INCR_N entries modified (a new title each), then,
# side by side, a plain `ldapsearch -E sync=ro` from the cookie of before
# the modifies (the floor: the changed entries alone) and `dirledger run
# --once` on the data dir the last full run left (whole process: open,
# resume from its cookie, decide, write the mail side, close).
INCR_N=${INCR_N:-100}
IF_S=() ID_S=()
for r in $(seq 1 "$RUNS"); do
  cookie="rid=000,csn=$(csn "$P")"
  for i in $(seq 1 "$INCR_N"); do
    printf 'dn: uid=user%06d,ou=people,%s\nchangetype: modify\nreplace: title\ntitle: incremental %s\n\n' \
      "$(( (i * 97 + r * 13) % N + 1 ))" "$BASE" "$r.$i"
  done | ldapmodify -x -H "$P" -D "$ADMIN" -y "$W/prov/admin.pw" > /dev/null
  # Timed to the millisecond (GNU time's 10 ms is the floor's whole time).
  t=$(now)
  ldapsearch -x -H "$P" -D "$ADMIN" -y "$W/prov/admin.pw" \
    -b "$SBASE" -E "sync=ro/$cookie" "$SFILTER" "${SATTR_LIST[@]}" \
    > "$W/incr.ldif"
  IF_S+=("$(since "$t")")
  seen=$(grep -c '^dn: ' "$W/incr.ldif" || true)
  t=$(now)
  "$DIRLEDGER" --config "$CFG" run --once 2> "$W/incr.$r.log"
  ID_S+=("$(since "$t")")
  echo "incremental $r: floor ${IF_S[-1]} s ($seen entries), dirledger ${ID_S[-1]} s ($(grep '^run: ' "$W/incr.$r.log" | tail -1 || true))"
done
IF=$(printf '%s\n' "${IF_S[@]}" | median)
ID=$(printf '%s\n' "${ID_S[@]}" | median)
cat <<EOF
incremental_floor_s=$IF   (runs: ${IF_S[*]})
incremental_dirledger_s=$ID   (runs: ${ID_S[*]})
incremental_dirledger_over_floor=$(echo "$ID / $IF" | bc -l | xargs printf '%.2f')   (goal <= 3)
EOF

# 5. Persist mode: the daemon, then single modifies timed by persist_latency.
"$DIRLEDGER" --config "$CFG" run 2> "$W/daemon.log" &
DAEMON_PID=$!
# Warm up (the daemon's first refresh from its cookie, the connections).
"$LATENCY" --uri "$P" --bind-dn "$ADMIN" --password-file "$W/prov/admin.pw" \
  --data-dir "$W/data" --count 20 --first $((N > 2000 ? 2001 : 1)) \
  --dn-format "uid=user%06d,ou=people,$BASE" --address-format "user%06d@example.com" > /dev/null
echo "persist: $LATENCY_N single modifies (title of uid=user000001...), load before: $(load)"
"$LATENCY" --uri "$P" --bind-dn "$ADMIN" --password-file "$W/prov/admin.pw" \
  --data-dir "$W/data" --count "$LATENCY_N" \
  --dn-format "uid=user%06d,ou=people,$BASE" --address-format "user%06d@example.com"
echo "daemon_peak_rss_kib=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$DAEMON_PID/status")"
kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID" || true
DAEMON_PID=
echo "load_at_end=\"$(load)\""
