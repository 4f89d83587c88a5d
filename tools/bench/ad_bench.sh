#!/usr/bin/env bash
# Benchmark (not a test): Active Directory intake. A full DirSync pass of N
# users (default 10000) of a Samba AD DC into dirledger's log, side by side in
# the same run with a plain `ldapsearch -E '!dirSync=0/0'` of the same users
# (same filter, same attributes) to /dev/null; then an incremental pass after
# 100 modifies, both ways. Prints the figures (docs/performance.md,
# "Active Directory intake", keeps them).
#
#   tools/bench/ad_bench.sh [WORKDIR] [N]
#
# The DC is provisioned fresh in WORKDIR/dc on AD_BENCH_ADDR and stopped at
# the end. How dirledger is driven (AD_BENCH_DRIVER):
#   intake  tools/bench/ad_dirsync_intake: the DirSync source into the log,
#           each delivery one log transaction (events + cursor)
#   run     `dirledger --config WORKDIR/dirledger.toml run --once`, the whole
#           engine with the embedded mail directory
# default: run when the dirledger command has it, else intake.
# env: AD_BENCH_ADDR (default 127.0.0.41), AD_BENCH_RUNS (default 3; the
# median is reported), AD_BENCH_FSYNC (default true), BUILD_DIR (default
# build), SAMBA_MODEL (see tests/harness/samba.sh).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
W=${1:-/tmp/dirledger-ad-bench}
N=${2:-10000}
ADDR=${AD_BENCH_ADDR:-127.0.0.41}
RUNS=${AD_BENCH_RUNS:-3}
BUILD=${BUILD_DIR:-$ROOT/build}
[[ $BUILD = /* ]] || BUILD=$ROOT/$BUILD
H=$ROOT/tests/harness/samba.sh
INTAKE=$BUILD/tools/bench/ad_dirsync_intake
DIRLEDGER=$BUILD/tools/dirledger/dirledger

log() { echo "ad_bench: $*" >&2; }
now() { echo "$EPOCHREALTIME"; }
since() { echo "$(now) - $1" | bc -l | xargs printf '%.3f'; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

log "building ad_dirsync_intake in $BUILD"
cmake -S "$ROOT" -B "$BUILD" -DDIRLEDGER_BENCH=ON >/dev/null
cmake --build "$BUILD" -j2 --target ad_dirsync_intake dirledger >/dev/null

DRIVER=${AD_BENCH_DRIVER:-}
if [[ -z $DRIVER ]]; then
  if "$DIRLEDGER" --help 2>/dev/null | grep -qE '^\s+run\b'; then DRIVER=run; else DRIVER=intake; fi
fi
[[ $DRIVER == intake || $DRIVER == run ]] || { log "AD_BENCH_DRIVER must be intake or run"; exit 2; }

mkdir -p "$W"
W=$(cd "$W" && pwd)
DC=$W/dc
"$H" stop "$DC" 2>/dev/null || true
rm -rf "$DC" "$W"/data*
trap '"$H" stop "$DC" >/dev/null 2>&1 || true' EXIT

t=$(now)
"$H" start "$DC" "$ADDR" >/dev/null
log "provision + start: $(since "$t") s"
eval "$("$H" env "$DC")"
A=(-x -H "$URL" -D "$ADMIN" -y "$PWFILE")
printf 'dn: OU=BenchPeople,%s\nobjectClass: organizationalUnit\n\ndn: OU=BenchGroups,%s\nobjectClass: organizationalUnit\n' \
  "$BASE" "$BASE" | ldapadd "${A[@]}" >/dev/null
"$H" users "$N" "OU=BenchPeople,$BASE" bench > "$W/users.ldif"
t=$(now)
ldapadd "${A[@]}" -f "$W/users.ldif" >/dev/null
ADD_S=$(since "$t")
log "ldapadd of $N users: $ADD_S s"

CONFIG=$W/dirledger.toml
cat > "$CONFIG" <<EOF
data_dir = "$W/data"
fsync = ${AD_BENCH_FSYNC:-true}
batch_size = 1000

[mail]
kind = "embedded"

[[connector]]
name = "bench"
server_type = "activedirectory"
uris = ["$URL"]
bind_dn = "$ADMIN"
bind_password_file = "$PWFILE"
timeout_s = 30
direction = "ldap_to_axigen"
account_base_dn = "OU=BenchPeople,$BASE"
group_sync = true
group_base_dn = "OU=BenchGroups,$BASE"

[[domain]]
name = "example.com"
ldap_sync = true
connector = "bench"
EOF

read -r FILTER ATTRS <<<"$("$INTAKE" --config "$CONFIG" --print-search)"
# Words, never expanded as paths (an attribute "*" would be).
read -r -a ATTR_LIST <<<"$ATTRS"
# ldapsearch with the DirSync control, following continueFlag (Windows sets
# it; Samba never does). $1: cookie (base64, "" = none). Prints the cookie.
ldapsearch_dirsync() {
  local cookie=$1 out n=0
  while :; do
    out=$(ldapsearch "${A[@]}" -b "$BASE" -E "!dirSync=0/0${cookie:+/$cookie}" \
      "$FILTER" "${ATTR_LIST[@]}" | grep -E '^(# cookie::|# DirSync control continueFlag=)' || true)
    cookie=$(sed -n 's/^# cookie:: //p' <<<"$out" | tail -1)
    grep -q 'continueFlag=1' <<<"$out" || break
  done
  echo "$cookie"
}

# One pass of dirledger; $1: "" (full: the data dir is fresh) or --resume
# (from the cursor in the log). Prints the driver's figures, if any.
dirledger_pass() {
  if [[ $DRIVER == intake ]]; then
    "$INTAKE" --config "$CONFIG" $1
  else
    /usr/bin/time -f "%M" -o "$W/rss.txt" "$DIRLEDGER" --config "$CONFIG" run --once 2> "$W/run.log" >/dev/null
    echo "peak RSS $(cat "$W/rss.txt") KiB; $(grep '^run: ' "$W/run.log" | tail -1)"
  fi
}

log "full passes ($RUNS runs each, alternating; driver: $DRIVER; load $(cut -d' ' -f1-3 /proc/loadavg))"
LS=() DL=() FIG=""
for r in $(seq 1 "$RUNS"); do
  t=$(now)
  LDAP_COOKIE=$(ldapsearch_dirsync "")
  LS+=("$(since "$t")")
  rm -rf "$W/data"
  t=$(now)
  out=$(dirledger_pass "")
  DL+=("$(since "$t")")
  [[ -n $out ]] && FIG=$out
  log "run $r (load $(cut -d' ' -f1-3 /proc/loadavg)): ldapsearch ${LS[-1]} s, dirledger ${DL[-1]} s ${out:+($out)}"
done
LS_MED=$(printf '%s\n' "${LS[@]}" | median)
DL_MED=$(printf '%s\n' "${DL[@]}" | median)

# Incremental: 100 modified users, from each side's own cookie.
awk -v b="OU=BenchPeople,$BASE" 'BEGIN{for(i=1;i<=100;i++) printf "dn: CN=bench%06d,%s\nchangetype: modify\nreplace: title\ntitle: Changed %d\n\n",i,b,i}' \
  > "$W/mods.ldif"
ldapmodify "${A[@]}" -f "$W/mods.ldif" >/dev/null
t=$(now)
ldapsearch_dirsync "$LDAP_COOKIE" >/dev/null
LS_INC=$(since "$t")
t=$(now)
INC_FIG=$(dirledger_pass --resume)
DL_INC=$(since "$t")

RATIO=$(echo "$DL_MED / $LS_MED" | bc -l | xargs printf '%.2f')
cat <<EOF
ad_bench: Samba $(samba -V | awk '{print $2}') AD DC on $ADDR (model ${SAMBA_MODEL:-single}), $N users, driver $DRIVER, fsync ${AD_BENCH_FSYNC:-true}
ldapadd_users_s=$ADD_S
full_pass_ldapsearch_dirsync_s=$LS_MED   (runs: ${LS[*]})
full_pass_dirledger_s=$DL_MED   (runs: ${DL[*]})
full_pass_ratio=$RATIO   (goal: <= 2)
full_pass_figures: $FIG
incremental_100_modifies_ldapsearch_s=$LS_INC
incremental_100_modifies_dirledger_s=$DL_INC
incremental_figures: $INC_FIG
EOF
