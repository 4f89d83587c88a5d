#!/usr/bin/env bash
# The crash harness: `dirledger run --once` killed with SIGKILL at random
# points loses nothing and applies nothing twice, and its log stays intact.
#
# Two private slapds (tests/harness/slapd.sh, 127.0.0.1) are loaded with the
# same CRASH_ENTRIES people and 20 groups, each synced into its own data dir
# (direction both_ways, conflict_resolution ldap_wins, embedded mail):
#   B, the oracle, is synced without any crash;
#   A gets the same changes, but its runs are killed with SIGKILL at random
#     moments (seeded) and restarted, CRASH_KILLS kills in all, spread over
#     the initial refresh and CRASH_ROUNDS rounds of changes; after the kills
#     of a phase one run goes to its end.
# The changes (tests/crash/crash_model.py gen) are LDAP modifies, deletes,
# renames, adds and member changes (ldapmodify), and mail-side sets, adds,
# removes and member adds (`dirledger mail`), on disjoint objects per round,
# so the state after a round does not depend on when each change is seen.
# On A a round's changes are made in slices, one before each run, so killed
# runs are killed while they have work to do.
#
# Checked at the end, each a failure with a diff when it does not hold:
#   - no loss: A's LDAP people and groups (ldapsearch) and A's mail directory
#     (`mail list --json`) equal B's;
#   - nothing applied twice: in A's log every intent has exactly one
#     WriteOutcome and no mail-side write appears twice; the writes slapd A
#     recorded in its accesslog equal slapd B's (an LDAP write made twice
#     would be there twice);
#   - `dirledger verify` is clean after every kill and at the end.
# Prints "crash: survived N kills (seed S), 0 lost, 0 duplicate applies,
# verify clean" and exits 0, or exits 1.
#
# env: CRASH_ENTRIES (20000), CRASH_KILLS (50), CRASH_ROUNDS (8),
#      CRASH_SEED (random; printed), CRASH_PORT (4100; PORT and PORT+1 are
#      used), CRASH_DIR (default: a new temp dir, removed after a success
#      unless CRASH_KEEP=1), CRASH_VERIFY_EVERY (1: verify after every kill),
#      DIRLEDGER (the binary; default BUILD_DIR/tools/dirledger/dirledger,
#      BUILD_DIR defaults to build).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
DL=${DIRLEDGER:-$ROOT/${BUILD_DIR:-build}/tools/dirledger/dirledger}
N=${CRASH_ENTRIES:-20000}
KILLS=${CRASH_KILLS:-50}
ROUNDS=${CRASH_ROUNDS:-8}
PORT=${CRASH_PORT:-4100}
VERIFY_EVERY=${CRASH_VERIFY_EVERY:-1}
if [[ -n ${CRASH_SEED:-} ]]; then SEED=$CRASH_SEED; else SEED=$(( (RANDOM << 15) | RANDOM )); fi
SLAPD=$ROOT/tests/harness/slapd.sh
MODEL="python3 $ROOT/tests/crash/crash_model.py"

[[ -x $DL ]] || { echo "crash: $DL not found; build first (scripts/build.sh)" >&2; exit 2; }
if [[ -n ${CRASH_DIR:-} ]]; then
  W=$CRASH_DIR
  rm -rf "$W"
  mkdir -p "$W"
else
  W=$(mktemp -d "${TMPDIR:-/tmp}/dirledger-crash-XXXXXX")
fi
W=$(cd "$W" && pwd)
A=$W/a
B=$W/b
mkdir -p "$A" "$B"
# A copy of the binary: a rebuild while the harness runs changes nothing.
cp "$DL" "$W/dirledger"
DL=$W/dirledger

cleanup() {
  local rc=$?
  [[ -n ${RUN_PID:-} ]] && kill -KILL "$RUN_PID" 2>/dev/null || true
  "$SLAPD" stop "$A/slapd" || true
  "$SLAPD" stop "$B/slapd" || true
  if [[ $rc == 0 && ${CRASH_KEEP:-0} != 1 ]]; then
    rm -rf "$W"
  else
    echo "crash: work dir kept: $W" >&2
  fi
}
trap cleanup EXIT

now_ms() { date +%s%3N; }
sleep_ms() { sleep "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))"; }
rand() { echo $(( ((RANDOM << 15) | RANDOM) % $1 )); }
fail() { echo "crash: FAILED: $*" >&2; exit 1; }
dl() { local side=$1; shift; (cd "$side" && "$DL" "$@"); }
admin() { local side=$1; shift; "$@" -x -H "ldap://127.0.0.1:$(cat "$side/port")" \
  -D cn=admin,dc=example,dc=com -y "$side/slapd/admin.pw"; }
last_seq() {  # 0 before the first run
  local out
  out=$(dl "$1" status --json 2>/dev/null | head -1 | sed -n 's/.*"last_seq":\([0-9]*\).*/\1/p') || true
  echo "${out:-0}"
}

start=$(now_ms)
echo "crash: seed $SEED, $N people, $KILLS kills over the initial refresh and $ROUNDS rounds, in $W"
RANDOM=$SEED

# ---- the two directories and data dirs -------------------------------------
$MODEL gen "$SEED" "$N" "$ROUNDS" "$W/changes"
"$SLAPD" people "$N" > "$W/people.ldif"
cat "$W/people.ldif" "$W/changes/groups.ldif" > "$W/directory.ldif"
i=0
for side in "$A" "$B"; do
  port=$((PORT + i)); i=$((i + 1))
  echo "$port" > "$side/port"
  "$SLAPD" start "$side/slapd" "$port" "$W/directory.ldif" >/dev/null
  cat > "$side/dirledger.toml" <<TOML
data_dir = "./data"
log_level = "warn"

[mail]
kind = "embedded"

[[connector]]
name = "corp"
server_type = "openldap"
uris = ["ldap://127.0.0.1:$port"]
bind_dn = "cn=admin,dc=example,dc=com"
bind_password_file = "slapd/admin.pw"
direction = "both_ways"
conflict_resolution = "ldap_wins"
account_base_dn = "ou=people,%D"
group_sync = true
group_base_dn = "ou=groups,%D"
delete_threshold = 1000000

[[domain]]
name = "example.com"
ldap_sync = true
connector = "corp"
TOML
done

# ---- running ---------------------------------------------------------------
KILLED=0       # kills in all
MIDWORK=0      # kills after which the log had grown: the run was working
VERIFIES=0

verify_a() {
  if ! dl "$A" verify > "$W/verify.out" 2>&1; then
    # Killed before it created its log: nothing to verify yet.
    if grep -q "no dirledger log in" "$W/verify.out"; then return 0; fi
    cat "$W/verify.out" >&2
    fail "dirledger verify failed after kill $KILLED"
  fi
  VERIFIES=$((VERIFIES + 1))
}

# A run that must end well.
run_to_end() {
  local side=$1 what=$2
  if ! dl "$side" run --once --quiet > "$side/run.out" 2> "$side/run.err"; then
    cat "$side/run.err" >&2
    fail "$what: run --once on $(basename "$side") failed"
  fi
}

# Applies slice K of N of the round's changes to one side: every N-th LDIF
# record and mail command from K.
apply_slice() {
  local side=$1 round=$2 k=$3 n=$4
  $MODEL slice "$W/changes/round-$round.ldif" "$k" "$n" > "$side/slice.ldif"
  if [[ -s $side/slice.ldif ]]; then
    admin "$side" ldapmodify -f "$side/slice.ldif" > "$side/ldapmodify.out" 2>&1 ||
      { cat "$side/ldapmodify.out" >&2; fail "ldapmodify of round $round slice $k"; }
  fi
  local line j=0
  while IFS= read -r line; do
    [[ -z $line ]] && continue
    if (( j % n == k )); then
      # shellcheck disable=SC2086
      dl "$side" mail $line > /dev/null 2> "$side/mail.err" ||
        { cat "$side/mail.err" >&2; fail "dirledger mail $line"; }
    fi
    j=$((j + 1))
  done < "$W/changes/round-$round.mail"
}

# Runs `run --once` on A, killing it WANT times at a random moment within
# SPAN ms of its start (a run that ends first narrows the span); before run
# number K, slice K of ROUND's changes is made (ROUND 0: none). Then the last
# slices and one run to the end.
crash_phase() {
  local round=$1 want=$2 span=$3 k=0 slices=$(($2 + 1)) applied=0
  while (( k < want )); do
    if (( round > 0 && applied < slices - 1 )); then
      apply_slice "$A" "$round" "$applied" "$slices"
      applied=$((applied + 1))
    fi
    local delay before rc=0
    delay=$(rand "$span")
    before=$(last_seq "$A")
    (cd "$A" && exec "$DL" run --once --quiet > "$A/run.out" 2> "$A/run.err") &
    RUN_PID=$!
    sleep_ms "$delay"
    kill -KILL "$RUN_PID" 2>/dev/null || true
    { wait "$RUN_PID"; } 2>/dev/null || rc=$?  # (no "Killed" line)
    RUN_PID=
    if (( rc == 137 )); then
      k=$((k + 1))
      KILLED=$((KILLED + 1))
      (( $(last_seq "$A") > before )) && MIDWORK=$((MIDWORK + 1))
      if (( VERIFY_EVERY > 0 && KILLED % VERIFY_EVERY == 0 )); then verify_a; fi
    elif (( rc == 0 )); then
      span=$(( delay > 40 ? delay * 9 / 10 : 40 ))
    else
      cat "$A/run.err" >&2
      fail "a run on A exited $rc (not killed) in round $round"
    fi
  done
  if (( round > 0 )); then
    while (( applied < slices )); do
      apply_slice "$A" "$round" "$applied" "$slices"
      applied=$((applied + 1))
    done
  fi
  run_to_end "$A" "round $round"
}

# The oracle's run of a phase; prints its duration in ms.
oracle_phase() {
  local round=$1 t0
  if (( round > 0 )); then apply_slice "$B" "$round" 0 1; fi
  t0=$(now_ms)
  run_to_end "$B" "round $round (oracle)"
  echo $(( $(now_ms) - t0 ))
}

init_kills=$(( KILLS / 5 ))
(( ROUNDS > 0 )) || init_kills=$KILLS
per_round=0
(( ROUNDS > 0 )) && per_round=$(( (KILLS - init_kills + ROUNDS - 1) / ROUNDS ))

t=$(oracle_phase 0)
echo "crash: initial refresh of $N people: ${t} ms without a crash; now with $init_kills kills"
crash_phase 0 "$init_kills" $(( t * 12 / 10 + 50 ))
for (( r = 1; r <= ROUNDS; r++ )); do
  want=$per_round
  (( KILLED + want > KILLS && r == ROUNDS )) && want=$(( KILLS > KILLED ? KILLS - KILLED : 0 ))
  t=$(oracle_phase "$r")
  crash_phase "$r" "$want" $(( t * 12 / 10 + 50 ))
  echo "crash: round $r: oracle ${t} ms; $KILLED kills so far ($MIDWORK while the run was writing)"
done

# ---- the checks ------------------------------------------------------------
problems=0
check_same() {
  local what=$1 a=$2 b=$3
  if ! diff -u "$b" "$a" > "$W/$what.diff"; then
    echo "crash: MISMATCH in $what (- oracle, + crashed); first lines:" >&2
    head -60 "$W/$what.diff" >&2
    problems=$((problems + 1))
  fi
}

for side in "$A" "$B"; do
  admin "$side" ldapsearch -LLL -o ldif-wrap=no -b ou=people,dc=example,dc=com \
    '(objectClass=*)' '*' > "$side/people.ldif"
  admin "$side" ldapsearch -LLL -o ldif-wrap=no -b ou=groups,dc=example,dc=com \
    '(objectClass=*)' '*' >> "$side/people.ldif"
  $MODEL ldap "$side/people.ldif" > "$side/people.norm"
  dl "$side" mail list --json > "$side/mail.json"
  $MODEL mail "$side/mail.json" > "$side/mail.norm"
  ldapsearch -x -LLL -o ldif-wrap=no -H "ldap://127.0.0.1:$(cat "$side/port")" \
    -b cn=accesslog '(objectClass=auditWriteObject)' \
    reqType reqDN reqMod reqNewRDN reqDeleteOldRDN reqNewSuperior > "$side/accesslog.ldif"
  $MODEL accesslog "$side/accesslog.ldif" > "$side/accesslog.norm"
  dl "$side" log --json > "$side/log.json"
done
check_same ldap "$A/people.norm" "$B/people.norm"
check_same mail "$A/mail.norm" "$B/mail.norm"
check_same ldap-writes "$A/accesslog.norm" "$B/accesslog.norm"

if ! $MODEL outcomes "$A/log.json" > "$W/outcomes.a"; then
  grep -v '^events=' "$W/outcomes.a" | head -40 >&2
  problems=$((problems + 1))
fi
$MODEL outcomes "$B/log.json" > "$W/outcomes.b" || { cat "$W/outcomes.b" >&2; problems=$((problems + 1)); }
mail_a=$(sed -n 's/.* mail_writes=\([0-9]*\).*/\1/p' "$W/outcomes.a")
mail_b=$(sed -n 's/.* mail_writes=\([0-9]*\).*/\1/p' "$W/outcomes.b")
if [[ $mail_a != "$mail_b" ]]; then
  echo "crash: MISMATCH: $mail_a writes reached the mail side, $mail_b without crashes" >&2
  problems=$((problems + 1))
fi
verify_a
dl "$B" verify > "$W/verify.b" 2>&1 || { cat "$W/verify.b" >&2; problems=$((problems + 1)); }

people=$(grep -c '^dn: ' "$A/people.ldif" || true)
objects=$(grep -c . "$A/mail.norm" || true)
writes=$(grep -c . "$A/accesslog.norm" || true)
echo "crash: A: $(tail -1 "$W/outcomes.a")"
echo "crash: $people LDAP entries, $objects mail objects, $writes LDAP writes compared with the oracle; $VERIFIES verifies"
echo "crash: $KILLED kills, $MIDWORK of them while the killed run was appending; $(( ($(now_ms) - start) / 1000 )) s"
(( problems == 0 )) || fail "$problems checks failed (seed $SEED; CRASH_SEED=$SEED reproduces the changes)"
(( KILLED >= KILLS )) || fail "only $KILLED of $KILLS kills were made"
echo "crash: survived $KILLED kills (seed $SEED), 0 lost, 0 duplicate applies, verify clean"
