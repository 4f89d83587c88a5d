#!/usr/bin/env bash
# A private OpenLDAP slapd for dirledger's tests, benchmarks and demo, bound
# to 127.0.0.1 only, in its own directory. Never touches a system slapd.
#
#   slapd.sh start DIR PORT [LDIF]   provider: mdb, syncprov (+ session log),
#                                    memberof, accesslog; LDIF slapadd'ed on
#                                    first start. Prints the URL.
#   slapd.sh consumer DIR PORT PROVIDER_URL
#                                    a syncrepl refreshAndPersist consumer
#   slapd.sh stop DIR                stops the slapd started in DIR, by PID
#   slapd.sh people N [START]        LDIF of N inetOrgPerson entries
#
# Suffix dc=example,dc=com; rootdn cn=admin,dc=example,dc=com, password in
# DIR/admin.pw ("secret", or SLAPD_PASSWORD); ou=people and ou=groups exist.
# env: SLAPD_LOGLEVEL (default 0), SLAPD_SESSIONLOG (default 100000; 0 = no
# session log), SLAPD_NOSYNC (default 1: dbnosync, fine for tests),
# SLAPD_TLS=1 (also listen on ldaps://127.0.0.1:PORT+1 with a test CA in
# DIR/tls/ca.pem; StartTLS works on PORT), SLAPD_RELOADHINT=1 (syncprov
# answers a stale cookie with e-syncRefreshRequired instead of a silent
# full reload, as RFC 4533 section 3.8 allows).
set -euo pipefail

BASE="dc=example,dc=com"
ADMIN="cn=admin,$BASE"
PW=${SLAPD_PASSWORD:-secret}

die() { echo "slapd.sh: $*" >&2; exit 1; }

find_bin() {
  for p in "$(command -v "$1" 2>/dev/null)" "/usr/sbin/$1"; do
    [[ -n $p && -x $p ]] && { echo "$p"; return; }
  done
  die "$1 not found (install slapd; scripts/install-deps.sh does)"
}

people() {
  local n=$1 start=${2:-1}
  awk -v n="$n" -v s="$start" -v base="$BASE" 'BEGIN{
    for (i = s; i < s + n; i++) { id = sprintf("user%06d", i);
      printf "dn: uid=%s,ou=people,%s\nobjectClass: inetOrgPerson\nuid: %s\n", id, base, id
      printf "cn: User %d\nsn: Number%d\ngivenName: User\ndisplayName: User Number%d\n", i, i, i
      printf "mail: %s@example.com\nemployeeNumber: %d\ntelephoneNumber: +1 555 %07d\n", id, i, i
      printf "title: Engineer\nou: Engineering\ndescription: generated test entry %d\n\n", i } }'
}

make_tls() {
  local dir=$1/tls
  [[ -s $dir/server.pem ]] && return
  mkdir -p "$dir"
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=dirledger test CA" \
    -keyout "$dir/ca.key" -out "$dir/ca.pem" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
    -keyout "$dir/server.key" -out "$dir/server.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > "$dir/ext.cnf"
  openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
    -CAcreateserial -days 30 -extfile "$dir/ext.cnf" -out "$dir/server.pem" 2>/dev/null
  chmod 600 "$dir"/*.key
}

write_conf() {
  local dir=$1 role=$2 provider=${3:-}
  local ns=""; [[ ${SLAPD_NOSYNC:-1} == 1 ]] && ns="dbnosync"
  local sessionlog=${SLAPD_SESSIONLOG:-100000}
  {
    echo "include /etc/ldap/schema/core.schema"
    echo "include /etc/ldap/schema/cosine.schema"
    echo "include /etc/ldap/schema/nis.schema"
    echo "include /etc/ldap/schema/inetorgperson.schema"
    echo "pidfile $dir/slapd.pid"
    echo "argsfile $dir/slapd.args"
    echo "modulepath /usr/lib/ldap"
    echo "moduleload back_mdb"
    echo "moduleload syncprov"
    echo "moduleload memberof"
    [[ $role == provider ]] && echo "moduleload accesslog"
    echo "sizelimit unlimited"
    echo "timelimit unlimited"
    if [[ ${SLAPD_TLS:-0} == 1 ]]; then
      echo "TLSCACertificateFile $dir/tls/ca.pem"
      echo "TLSCertificateFile $dir/tls/server.pem"
      echo "TLSCertificateKeyFile $dir/tls/server.key"
    fi
    if [[ $role == provider ]]; then
      cat <<C

database mdb
suffix "cn=accesslog"
rootdn "cn=accesslog"
directory $dir/accesslog
maxsize 4294967296
$ns
index default eq
index entryCSN,objectClass,reqEnd,reqResult,reqStart,reqDN
overlay syncprov
syncprov-nopresent TRUE
syncprov-reloadhint TRUE
C
    fi
    cat <<C

database mdb
suffix "$BASE"
rootdn "$ADMIN"
rootpw $PW
directory $dir/data
maxsize 8589934592
$ns
index objectClass eq
index entryCSN,entryUUID eq
index uid,cn,mail eq
index member eq
C
    if [[ $role == provider ]]; then
      echo "overlay syncprov"
      echo "syncprov-checkpoint 100 1"
      [[ ${SLAPD_RELOADHINT:-0} == 1 ]] && echo "syncprov-reloadhint TRUE"
      [[ $sessionlog != 0 ]] && echo "syncprov-sessionlog $sessionlog"
      echo "overlay memberof"
      echo "memberof-refint TRUE"
      echo "overlay accesslog"
      echo "logdb cn=accesslog"
      echo "logops writes"
      echo "logsuccess TRUE"
      echo "logpurge 07+00:00 01+00:00"
    else
      echo "syncrepl rid=001 provider=$provider bindmethod=simple binddn=\"$ADMIN\" credentials=$PW"
      echo "  searchbase=\"$BASE\" type=refreshAndPersist retry=\"1 +\" timeout=1 schemachecking=off"
      echo "overlay syncprov"
    fi
  } > "$dir/slapd.conf"
}

wait_up() {
  local url=$1 dir=$2 pid=$3
  # Up means: our slapd is alive and has written its PID file (it does so
  # after binding its listeners), and the URL answers. A port taken by
  # another server makes slapd exit, which is caught here.
  for _ in $(seq 1 150); do
    kill -0 "$pid" 2>/dev/null || break
    if [[ -s $dir/slapd.pid ]] &&
      ldapsearch -x -LLL -H "$url" -b "" -s base namingContexts >/dev/null 2>&1 &&
      kill -0 "$pid" 2>/dev/null; then
      return 0
    fi
    sleep 0.1
  done
  echo "slapd.sh: slapd in $dir did not come up; last log lines:" >&2
  tail -20 "$dir/slapd.log" >&2
  return 1
}

start() {
  local dir=$1 port=$2 role=${3:-provider} provider=${4:-} ldif=${5:-}
  local url="ldap://127.0.0.1:$port/"
  local slapd slapadd
  slapd=$(find_bin slapd)
  slapadd=$(find_bin slapadd)
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if [[ -s $dir/slapd.pid ]] && kill -0 "$(cat "$dir/slapd.pid")" 2>/dev/null; then
    echo "$url"
    return 0
  fi
  mkdir -p "$dir/data" "$dir/accesslog"
  printf '%s' "$PW" > "$dir/admin.pw"
  chmod 600 "$dir/admin.pw"
  [[ ${SLAPD_TLS:-0} == 1 ]] && make_tls "$dir"
  write_conf "$dir" "$role" "$provider"
  if [[ $role == provider && ! -e $dir/data/data.mdb ]]; then
    cat > "$dir/base.ldif" <<L
dn: $BASE
objectClass: top
objectClass: dcObject
objectClass: organization
o: Example
dc: example

dn: ou=people,$BASE
objectClass: organizationalUnit
ou: people

dn: ou=groups,$BASE
objectClass: organizationalUnit
ou: groups
L
    "$slapadd" -q -f "$dir/slapd.conf" -b "$BASE" -l "$dir/base.ldif"
    if [[ -n $ldif ]]; then "$slapadd" -q -f "$dir/slapd.conf" -b "$BASE" -l "$ldif"; fi
  fi
  local urls="$url"
  [[ ${SLAPD_TLS:-0} == 1 ]] && urls="$url ldaps://127.0.0.1:$((port + 1))/"
  rm -f "$dir/slapd.pid"
  setsid "$slapd" -h "$urls" -f "$dir/slapd.conf" -d "${SLAPD_LOGLEVEL:-0}" \
    </dev/null >"$dir/slapd.log" 2>&1 &
  wait_up "$url" "$dir" $!
  echo "$url"
}

stop() {
  local dir=$1 pf=$1/slapd.pid pid
  [[ -s $pf ]] || return 0
  pid=$(cat "$pf")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
  fi
  rm -f "$pf"
}

cmd=${1:-}
shift || true
case $cmd in
  start) start "${1:?DIR}" "${2:?PORT}" provider "" "${3:-}" ;;
  consumer) start "${1:?DIR}" "${2:?PORT}" consumer "${3:?PROVIDER_URL}" ;;
  stop) stop "${1:?DIR}" ;;
  people) people "${1:?N}" "${2:-1}" ;;
  *) echo "usage: $0 start DIR PORT [LDIF] | consumer DIR PORT PROVIDER_URL | stop DIR | people N [START]" >&2; exit 2 ;;
esac
