#!/usr/bin/env bash
# Log bytes per entry (not a test): N inetOrgPerson entries of the harness's
# generator (tests/harness/slapd.sh people: 12 attributes each, of which
# employeeNumber and description are not mapped) synced by one
# `dirledger run --once` into a fresh data dir with the embedded mail
# directory; then `du` of the data dir and of its log database, those
# divided by N, and the run's wall time and peak RSS. docs/performance.md
# ("Log size per entry") has the figures.
#
# Usage: tools/bench/log_bytes_bench.sh [WORKDIR] [N] [DIRLEDGER]
#   WORKDIR    default /tmp/dirledger-log-bytes (wiped first)
#   N          entries, default 10000
#   DIRLEDGER  the binary, default ./build/tools/dirledger/dirledger
# env: PORT (default 4206). The slapd started here is stopped by its PID.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HARNESS=$ROOT/tests/harness/slapd.sh
W=${1:-/tmp/dirledger-log-bytes}
N=${2:-10000}
DIRLEDGER=${3:-$ROOT/build/tools/dirledger/dirledger}
PORT=${PORT:-4206}
[[ -x $DIRLEDGER ]] || { echo "build first ($DIRLEDGER is missing)" >&2; exit 2; }
mkdir -p "$W"
W=$(cd "$W" && pwd)
trap '"$HARNESS" stop "$W/slapd" 2>/dev/null || true' EXIT
"$HARNESS" stop "$W/slapd" 2>/dev/null || true
rm -rf "$W/slapd" "$W/data" "$W/people.ldif"
"$HARNESS" people "$N" > "$W/people.ldif"
URL=$("$HARNESS" start "$W/slapd" "$PORT" "$W/people.ldif")
cat > "$W/dirledger.toml" <<C
data_dir = "$W/data"
[mail]
kind = "embedded"
[[connector]]
name = "corp"
server_type = "openldap"
uris = ["$URL"]
bind_dn = "cn=admin,dc=example,dc=com"
bind_password_file = "$W/slapd/admin.pw"
direction = "ldap_to_axigen"
account_base_dn = "ou=people,%D"
delete_threshold = 1000000
[[domain]]
name = "example.com"
ldap_sync = true
connector = "corp"
C
command -v /usr/bin/time >/dev/null || { echo "needs GNU time (package time)" >&2; exit 2; }
/usr/bin/time -f '%e %M' -o "$W/time.txt" \
  "$DIRLEDGER" --config "$W/dirledger.toml" run --once >/dev/null 2>"$W/run.err" ||
  { tail -5 "$W/run.err" >&2; exit 1; }
read -r wall_s peak_kib < "$W/time.txt"
data=$(du -sb "$W/data" | cut -f1)
log=$(du -sb "$W/data/log" | cut -f1)
echo "entries=$N"
echo "data_dir_bytes=$data"
echo "log_bytes=$log"
echo "data_dir_bytes_per_entry=$((data / N))"
echo "log_bytes_per_entry=$((log / N))"
echo "run_once_s=$wall_s"
echo "run_once_peak_rss_kib=$peak_kib"
