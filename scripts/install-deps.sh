#!/usr/bin/env bash
# Installs every Debian 12 package dirledger builds, tests and demos with.
# Run as root. Packaged services (slapd, samba) are kept from starting: the
# tests and the demo start their own servers on 127.0.0.1 in temp dirs.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config git ca-certificates ccache
  clang libclang-rt-14-dev clang-format
  librocksdb-dev libzstd-dev libflatbuffers-dev flatbuffers-compiler
  libspdlog-dev libfmt-dev catch2 libtomlplusplus-dev libcli11-dev nlohmann-json3-dev
  libldap-dev libssl-dev libbenchmark-dev libjemalloc-dev libcpp-httplib-dev
  slapd ldap-utils
  samba samba-ad-dc samba-ad-provision samba-dsdb-modules python3-samba winbind ldb-tools krb5-user
  libsystemd-dev systemd
  prometheus
  iproute2 procps openssl bc time python3
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "install-deps: missing packages (${missing[*]}); run as root to install them" >&2
  exit 2
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
made_policy=0
if [[ ! -e /usr/sbin/policy-rc.d ]]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  made_policy=1
fi
trap '[[ $made_policy == 1 ]] && rm -f /usr/sbin/policy-rc.d' EXIT
apt-get update -qq
apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
