#!/usr/bin/env bash
# Checks the shipped systemd unit: `systemd-analyze verify` finds nothing
# wrong with it (with ExecStart pointed at the built binary), and
# `systemd-analyze security` rates its exposure at 3.0 or less.
#   unit_test.sh UNIT_FILE DIRLEDGER_BINARY
set -euo pipefail
unit=$1 binary=$2
command -v systemd-analyze > /dev/null || { echo "systemd-analyze not found (install systemd)"; exit 1; }
tmp=$(mktemp -d /tmp/dirledger-unit.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
sed "s#/usr/local/bin/dirledger#$binary#" "$unit" > "$tmp/dirledger@test.service"
if ! systemd-analyze verify "$tmp/dirledger@test.service" > "$tmp/verify.log" 2>&1 ||
    [[ -s $tmp/verify.log ]]; then
  echo "systemd-analyze verify:"; cat "$tmp/verify.log"; exit 1
fi
systemd-analyze security --offline=true "$tmp/dirledger@test.service" > "$tmp/security.log" 2>&1 || true
exposure=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' "$tmp/security.log")
[[ -n $exposure ]] || { echo "no exposure level in:"; cat "$tmp/security.log"; exit 1; }
echo "systemd-analyze verify: clean; security exposure: $exposure"
awk -v e="$exposure" 'BEGIN { exit !(e <= 3.0) }' || {
  grep '✗' "$tmp/security.log"; echo "exposure $exposure is over 3.0"; exit 1; }
