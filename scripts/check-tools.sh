#!/usr/bin/env bash
# Checks, before any test runs, that every outside tool the tests start works
# on this machine, not only that its package is installed: slapd loads the
# overlays the tests use, samba-tool provisions a domain into a temp dir,
# ldapsearch runs, promtool checks an exposition, and clang links a libFuzzer target and a ThreadSanitizer
# program. Each failure names the Debian package that brings what is missing.
#   check-tools.sh [--no-clang]     --no-clang skips the clang checks
set -uo pipefail

tmp=$(mktemp -d /tmp/dirledger-check-tools.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
failures=()

fail() {  # WHAT PACKAGE LOG
  failures+=("$1 (install the Debian package $2)")
  [[ -s ${3:-/dev/null} ]] && tail -5 "$3" | sed 's/^/    /' >&2
}

check_slapd() {
  local slapd=/usr/sbin/slapd
  [[ -x $slapd ]] || { fail "slapd not found at $slapd" slapd; return; }
  mkdir -p "$tmp/slapd/data"
  cat > "$tmp/slapd/slapd.conf" <<EOF
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload syncprov
moduleload memberof
moduleload accesslog
database mdb
suffix "dc=example,dc=com"
directory $tmp/slapd/data
overlay syncprov
overlay memberof
EOF
  /usr/sbin/slaptest -u -f "$tmp/slapd/slapd.conf" > "$tmp/slapd.log" 2>&1 ||
    fail "slapd cannot load back_mdb, syncprov, memberof and accesslog" slapd "$tmp/slapd.log"
}

check_ldap_utils() {
  for t in ldapsearch ldapadd ldapmodify ldapdelete; do
    command -v "$t" > /dev/null || { fail "$t not found" ldap-utils; return; }
  done
  ldapsearch -VV > "$tmp/ldapsearch.log" 2>&1 ||
    fail "ldapsearch -VV fails" ldap-utils "$tmp/ldapsearch.log"
}

check_samba() {
  command -v samba-tool > /dev/null || { fail "samba-tool not found" samba; return; }
  command -v samba > /dev/null || { fail "samba (the AD DC) not found" samba-ad-dc; return; }
  local dir=$tmp/dc
  samba-tool domain provision --targetdir="$dir" --realm=CHECK.TEST --domain=CHECK \
    --server-role=dc --dns-backend=NONE --adminpass='Check-tools1!' \
    --host-name=dc1 --host-ip=127.0.0.99 \
    --option="interfaces=127.0.0.99/8" --option="bind interfaces only=yes" \
    --option="pid directory=$dir/run" --option="ncalrpc dir=$dir/run/ncalrpc" \
    --option="winbindd socket directory=$dir/run/winbindd" \
    --option="log file=$dir/log.samba" > "$tmp/provision.log" 2>&1 ||
    fail "samba-tool domain provision fails" "samba-ad-provision" "$tmp/provision.log"
}

check_prometheus() {
  command -v prometheus > /dev/null || { fail "prometheus not found" prometheus; return; }
  command -v promtool > /dev/null || { fail "promtool not found" prometheus; return; }
  printf '%s\n' '# HELP check_up Whether the check runs.' '# TYPE check_up gauge' 'check_up 1' |
    promtool check metrics > "$tmp/promtool.log" 2>&1 ||
    fail "promtool check metrics fails on a valid exposition" prometheus "$tmp/promtool.log"
  prometheus --version > "$tmp/prometheus.log" 2>&1 ||
    fail "prometheus --version fails" prometheus "$tmp/prometheus.log"
}

check_clang() {
  command -v clang++ > /dev/null || { fail "clang++ not found" clang; return; }
  printf '%s\n' '#include <cstddef>' '#include <cstdint>' \
    'extern "C" int LLVMFuzzerTestOneInput(const uint8_t*, size_t) { return 0; }' \
    > "$tmp/fuzz.cc"
  clang++ -fsanitize=fuzzer,address "$tmp/fuzz.cc" -o "$tmp/fuzz" > "$tmp/fuzz.log" 2>&1 &&
    "$tmp/fuzz" -runs=10 > "$tmp/fuzz-run.log" 2>&1 ||
    fail "clang cannot build or run a libFuzzer target" libclang-rt-14-dev "$tmp/fuzz.log"
  printf '%s\n' '#include <thread>' \
    'int main() { int x = 0; std::thread t([&] { x = 1; }); t.join(); return x - 1; }' \
    > "$tmp/tsan.cc"
  clang++ -fsanitize=thread "$tmp/tsan.cc" -o "$tmp/tsan" > "$tmp/tsan.log" 2>&1 &&
    "$tmp/tsan" >> "$tmp/tsan.log" 2>&1 ||
    fail "clang cannot build or run a ThreadSanitizer program" libclang-rt-14-dev "$tmp/tsan.log"
}

check_slapd
check_ldap_utils
check_samba
check_prometheus
[[ ${1:-} == --no-clang ]] || check_clang

if [[ ${#failures[@]} -gt 0 ]]; then
  echo "check-tools: the tests cannot run on this machine:" >&2
  for f in "${failures[@]}"; do echo "  - $f" >&2; done
  exit 1
fi
echo "check-tools: slapd, ldap-utils, samba-tool provision, prometheus and promtool$([[ ${1:-} == --no-clang ]] || echo ", clang fuzzer and TSan runtimes") work"
