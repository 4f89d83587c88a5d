#!/usr/bin/env bash
# The demo: installs what is missing, builds, starts a local slapd with
# sample people and a group (on 127.0.0.1, in ./demo), and shows dirledger
# syncing them into the embedded mail directory: the first sync, a change in
# LDAP and its explanation, a bad bulk change and its rollback, a mass delete
# held by the guard, and a clean verify. Stops the slapd it started.
# env: DEMO_DIR (default ./demo), DEMO_PORT (default 4390), DEMO_PEOPLE (200).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
bash scripts/install-deps.sh
bash scripts/build.sh -DDIRLEDGER_BENCH=OFF
DL=$ROOT/build/tools/dirledger/dirledger
W=${DEMO_DIR:-$ROOT/demo}
PORT=${DEMO_PORT:-4390}
N=${DEMO_PEOPLE:-200}
URL=ldap://127.0.0.1:$PORT
SLAPD=$ROOT/tests/harness/slapd.sh

[[ -d $W/slapd ]] && "$SLAPD" stop "$W/slapd"
rm -rf "$W"
mkdir -p "$W"
trap '"$SLAPD" stop "$W/slapd"' EXIT

step() { printf '\n\033[1m### %s\033[0m\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@"; }
admin() { "$@" -x -H "$URL" -D cn=admin,dc=example,dc=com -y "$W/slapd/admin.pw"; }
dl() { (cd "$W" && "$DL" "$@"); }

step "0. a local slapd with $N people and a group, on $URL"
"$SLAPD" people "$N" > "$W/people.ldif"
{
  cat "$W/people.ldif"
  printf 'dn: cn=engineering,ou=groups,dc=example,dc=com\nobjectClass: groupOfNames\ncn: engineering\ndescription: Engineering team\n'
  for i in $(seq 1 10); do printf 'member: uid=user%06d,ou=people,dc=example,dc=com\n' "$i"; done
  printf '\n'
} > "$W/directory.ldif"
"$SLAPD" start "$W/slapd" "$PORT" "$W/directory.ldif" >/dev/null
cat > "$W/dirledger.toml" <<TOML
# dirledger demo: OpenLDAP -> the embedded mail directory
data_dir = "./data"

[mail]
kind = "embedded"

[[connector]]
name = "corp"
server_type = "openldap"
uris = ["$URL"]
bind_dn = "cn=admin,dc=example,dc=com"
bind_password_file = "slapd/admin.pw"
timeout_s = 4
direction = "ldap_to_axigen"
account_base_dn = "ou=people,%D"
group_sync = true
group_base_dn = "ou=groups,%D"
delete_threshold = 20

[[domain]]
name = "example.com"
ldap_sync = true
connector = "corp"
TOML
echo "config: $W/dirledger.toml"

step "1. the first sync"
show dl run --once
dl mail list | head -5
dl mail show engineering@example.com

step "2. a change in LDAP, and why the account looks like this"
printf 'dn: uid=user000007,ou=people,dc=example,dc=com\nchangetype: modify\nreplace: title\ntitle: Chief Engineer\n' \
  | admin ldapmodify >/dev/null
echo "(ldapmodify: user000007 is now Chief Engineer)"
show dl run --once --quiet
show dl explain user000007@example.com

step "3. a bad bulk change: 15 people moved to Sales by mistake"
before=$(dl status --json | head -1 | sed 's/.*"last_seq":\([0-9]*\).*/\1/')
for i in $(seq 20 34); do
  printf 'dn: uid=user%06d,ou=people,dc=example,dc=com\nchangetype: modify\nreplace: ou\nou: Sales\n\n' "$i"
done | admin ldapmodify >/dev/null
show dl run --once --quiet
show dl mail show user000021@example.com

step "4. roll it back, on both sides (log sequence $before was before the change)"
echo "\$ dl rollback --to $before --dry-run   (the plan, object by object; first lines:)"
dl rollback --to "$before" --dry-run | sed -n '1,5p;$p'
echo "\$ dl rollback --to $before --yes"
dl rollback --to "$before" --yes | tail -4
show dl run --once --quiet
show dl mail show user000021@example.com
admin ldapsearch -LLL -b dc=example,dc=com uid=user000021 ou

step "5. a mass delete is held by the guard (delete_threshold = 20)"
for i in $(seq 100 129); do
  printf 'dn: uid=user%06d,ou=people,dc=example,dc=com\nchangetype: delete\n\n' "$i"
done | admin ldapmodify >/dev/null
echo "(ldapmodify: 30 people deleted)"
set +e
dl run --once --quiet
rc=$?
set -e
echo "run exited $rc (3: held by the mass-delete guard)"
dl status | sed -n '/held deletes:/,/^$/p'
hold=$(dl status --json | sed -n 's/.*"hold_id":"\([^"]*\)".*/\1/p' | head -1)
show dl reject "$hold"
echo "the 30 mail accounts are kept: $(dl mail list 2>/dev/null | wc -l) objects on the mail side"

step "6. the log is intact and every decision replays byte for byte"
show dl verify
echo
echo "Try more: cd $W && $DL status | log --object user000007@example.com | replay --set direction=both_ways --set conflict_resolution=no_change"
