#!/usr/bin/env bash
# A private Samba 4 Active Directory domain controller for dirledger's tests
# and benchmarks, in its own directory, bound to one loopback address other
# than 127.0.0.1 (Samba's LDAP port 389 cannot move, so each DC gets its own
# address: at most one DC per address). Never touches a system Samba.
#
#   samba.sh start DIR ADDR [REALM]   provisions DIR on first use (realm
#                                     default EXAMPLE.TEST), starts the DC on
#                                     ADDR (e.g. 127.0.0.21) and prints its
#                                     ldap:// URL once LDAP answers
#   samba.sh stop DIR                 stops the DC started in DIR, by PID
#   samba.sh users N OU [PREFIX] [FROM]
#                                     LDIF of N AD users PREFIX000001... under
#                                     OU (no password: created disabled)
#   samba.sh env DIR                  prints shell variables describing DIR's
#                                     DC (URL, LDAPS_URL, BASE, ADMIN, ...)
#
# The domain: NetBIOS name = first label of the realm, base DN from the realm
# (EXAMPLE.TEST -> DC=example,DC=test), administrator
# Administrator@REALM with the password in DIR/admin.pw.
# Plain ldap:// accepts simple binds ("ldap server require strong auth = no");
# ldaps://ADDR:636 serves a certificate for IP ADDR signed by a test CA made
# here, DIR/tls/ca.pem. Only the LDAP service runs (no DNS, Kerberos, SMB):
# it is all dirledger needs, and starts in well under a second.
# env: SAMBA_MODEL (default single; prefork for more throughput),
# SAMBA_ADMINPASS (default Passw0rd!Test), SAMBA_LOGLEVEL (default 0),
# SAMBA_NOSYNC (default 1: the directory skips fsync, as slapd's dbnosync;
# fine for tests and three times faster at bulk adds; read at provisioning).
set -euo pipefail

die() { echo "samba.sh: $*" >&2; exit 1; }

need() {
  for b in "$@"; do
    command -v "$b" >/dev/null 2>&1 || [[ -x /usr/sbin/$b ]] ||
      die "$b not found (install samba, samba-ad-dc, ldb-tools, ldap-utils; scripts/install-deps.sh does)"
  done
}

realm_base() {  # EXAMPLE.TEST -> DC=example,DC=test
  local r=${1,,} out="" part
  IFS=. read -ra parts <<<"$r"
  for part in "${parts[@]}"; do out+="${out:+,}DC=$part"; done
  echo "$out"
}

check_addr() {
  [[ $1 =~ ^127\.[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "address $1 is not a loopback address"
  [[ $1 != 127.0.0.1 ]] || die "use a loopback address other than 127.0.0.1"
}

make_tls() {  # DIR ADDR REALM: a test CA and a server certificate for ADDR
  local dir=$1/tls addr=$2 realm=${3,,}
  [[ -s $dir/server.pem ]] && return
  mkdir -p "$dir"
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=dirledger test AD CA" \
    -keyout "$dir/ca.key" -out "$dir/ca.pem" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=dc1.$realm" \
    -keyout "$dir/server.key" -out "$dir/server.csr" 2>/dev/null
  printf 'subjectAltName=IP:%s,DNS:dc1.%s\n' "$addr" "$realm" > "$dir/ext.cnf"
  openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
    -CAcreateserial -days 30 -extfile "$dir/ext.cnf" -out "$dir/server.pem" 2>/dev/null
  chmod 600 "$dir"/*.key
}

provision() {  # DIR ADDR REALM
  local dir=$1 addr=$2 realm=$3 pw=$4 domain
  domain=${realm%%.*}
  local nosync=false
  [[ ${SAMBA_NOSYNC:-1} == 1 ]] && nosync=true
  mkdir -p "$dir/run" "$dir/log"
  local t0=$SECONDS
  samba-tool domain provision --targetdir="$dir" --realm="$realm" --domain="$domain" \
    --server-role=dc --dns-backend=NONE --adminpass="$pw" --use-rfc2307 \
    --host-name=dc1 --host-ip="$addr" \
    --option="netbios name=DC1" \
    --option="interfaces=$addr/8" --option="bind interfaces only=yes" \
    --option="pid directory=$dir/run" \
    --option="winbindd socket directory=$dir/run/winbindd" \
    --option="ncalrpc dir=$dir/run/ncalrpc" \
    --option="log file=$dir/log/log.samba" \
    >"$dir/provision.log" 2>&1 ||
    { tail -20 "$dir/provision.log" >&2; die "provisioning $realm in $dir failed"; }
  make_tls "$dir" "$addr" "$realm"
  # Provision keeps neither the service list nor the strong-auth setting, so
  # they are set afterwards. "interfaces" must carry a mask: a bare address
  # that no interface owns (127.0.0.21 on lo's 127.0.0.1/8) is ignored.
  sed -i -e '/^\s*server services\s*=/d' -e '/^\s*interfaces\s*=/d' \
    -e '/^\[global\]/a\
	interfaces = '"$addr"'/8\
	server services = ldap\
	ldap server require strong auth = no\
	ldb:nosync = '"$nosync"'\
	tls enabled = yes\
	tls keyfile = '"$dir"'/tls/server.key\
	tls certfile = '"$dir"'/tls/server.pem\
	tls cafile = '"$dir"'/tls/ca.pem' "$dir/etc/smb.conf"
  printf '%s\n%s\n' "$addr" "$realm" > "$dir/dc.conf"
  echo "samba.sh: provisioned $realm in $((SECONDS - t0)) s" >&2
}

ldap_up() {  # URL ADMIN PWFILE
  ldapsearch -x -LLL -H "$1" -D "$2" -y "$3" -b "" -s base defaultNamingContext \
    >/dev/null 2>&1
}

start() {
  local dir=$1 addr=$2 realm=${3:-EXAMPLE.TEST}
  local pw=${SAMBA_ADMINPASS:-Passw0rd!Test}
  need samba samba-tool ldapsearch openssl
  check_addr "$addr"
  realm=${realm^^}
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  local url="ldap://$addr/" admin="Administrator@$realm" pf=$dir/run/samba.pid
  if [[ -s $dir/dc.conf ]]; then
    local old_addr old_realm
    { read -r old_addr; read -r old_realm; } < "$dir/dc.conf"
    [[ $old_addr == "$addr" && $old_realm == "$realm" ]] ||
      die "$dir holds $old_realm on $old_addr, not $realm on $addr"
  fi
  if [[ -s $pf ]] && kill -0 "$(cat "$pf")" 2>/dev/null; then
    echo "$url"
    return 0
  fi
  if ss -ltnH "src $addr" 2>/dev/null | grep -q ":389 "; then
    die "$addr:389 is already in use (another DC on this address?)"
  fi
  printf '%s' "$pw" > "$dir/admin.pw"
  chmod 600 "$dir/admin.pw"
  [[ -s $dir/etc/smb.conf ]] || provision "$dir" "$addr" "$realm" "$pw"
  mkdir -p "$dir/run" "$dir/log"
  setsid samba -F -M "${SAMBA_MODEL:-single}" -d "${SAMBA_LOGLEVEL:-0}" \
    -s "$dir/etc/smb.conf" </dev/null >"$dir/log/samba.stdout" 2>&1 &
  echo $! > "$pf"
  for _ in $(seq 1 600); do
    ldap_up "$url" "$admin" "$dir/admin.pw" && { echo "$url"; return 0; }
    kill -0 "$(cat "$pf")" 2>/dev/null || break
    sleep 0.1
  done
  echo "samba.sh: the DC in $dir did not come up; last log lines:" >&2
  tail -20 "$dir/log/samba.stdout" "$dir/log/log.samba" >&2 2>/dev/null || true
  stop "$dir" >/dev/null 2>&1 || true
  return 1
}

stop() {
  local dir=$1 pf=$1/run/samba.pid pid p
  [[ -s $pf ]] || return 0
  pid=$(cat "$pf")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
  fi
  # Children left in the session the DC led (its own, made by setsid).
  for p in $(pgrep -s "$pid" 2>/dev/null || true); do kill -KILL "$p" 2>/dev/null || true; done
  rm -f "$pf"
}

users() {
  local n=$1 ou=$2 prefix=${3:-u} from=${4:-1}
  awk -v n="$n" -v ou="$ou" -v p="$prefix" -v s="$from" 'BEGIN{
    for (i = s; i < s + n; i++) { id = sprintf("%s%06d", p, i)
      printf "dn: CN=%s,%s\nobjectClass: user\nsAMAccountName: %s\n", id, ou, id
      printf "userPrincipalName: %s@example.test\ngivenName: Given%d\nsn: Sur%d\n", id, i, i
      printf "displayName: User %s\nmail: %s@example.com\n", id, id
      printf "proxyAddresses: SMTP:%s@example.com\nproxyAddresses: smtp:%s.alias@example.com\n", id, id
      printf "title: Engineer\ndepartment: Engineering\ntelephoneNumber: +1 555 %07d\n\n", i } }'
}

env_of() {
  local dir addr realm
  dir=$(cd "$1" && pwd)
  [[ -s $dir/dc.conf ]] || die "no DC provisioned in $dir"
  { read -r addr; read -r realm; } < "$dir/dc.conf"
  echo "URL=ldap://$addr/"
  echo "LDAPS_URL=ldaps://$addr:636/"
  echo "ADDR=$addr"
  echo "REALM=$realm"
  echo "BASE=$(realm_base "$realm")"
  echo "ADMIN=Administrator@$realm"
  echo "PWFILE=$dir/admin.pw"
  echo "CAFILE=$dir/tls/ca.pem"
}

cmd=${1:-}
shift || true
case $cmd in
  start) [[ $# -ge 2 ]] || die "usage: samba.sh start DIR ADDR [REALM]"; start "$@" ;;
  stop) [[ $# -eq 1 ]] || die "usage: samba.sh stop DIR"; stop "$1" ;;
  users) [[ $# -ge 2 ]] || die "usage: samba.sh users N OU [PREFIX] [FROM]"; users "$@" ;;
  env) [[ $# -eq 1 ]] || die "usage: samba.sh env DIR"; env_of "$1" ;;
  *) die "usage: samba.sh start DIR ADDR [REALM] | stop DIR | users N OU [PREFIX] [FROM] | env DIR" ;;
esac
