#!/usr/bin/env bash
# Installs every Debian bookworm package quorum53 needs to build, run and test.
# Idempotent: packages already present are skipped by apt. Run as root.
set -euo pipefail

BUILD_PKGS=(
  build-essential cmake pkg-config clang libclang-rt-14-dev clang-format
  libuv1-dev libnng-dev libprotobuf-c-dev protobuf-c-compiler libraft-dev
  libknot-dev libjansson-dev libcurl4-openssl-dev liburcu-dev libcmocka-dev
  libmicrohttpd-dev libxml2-dev libssl-dev libmaxminddb-dev openssl
)
TEST_PKGS=(
  python3 python3-venv python3-pytest python3-dnspython bind9-dnsutils knot-dnsutils
  knot nsd gdnsd bind9 dnsperf valgrind iproute2 procps linux-perf strace
  chromium chromium-driver
)

want=()
for p in "${BUILD_PKGS[@]}" "${TEST_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || want+=("$p")
done
if [ "${#want[@]}" -eq 0 ]; then
  echo "install-deps: all ${#BUILD_PKGS[@]}+${#TEST_PKGS[@]} packages already installed"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: need root to install: ${want[*]} (re-run with sudo)" >&2
  exit 1
fi
echo "install-deps: installing ${#want[@]} packages: ${want[*]}"
export DEBIAN_FRONTEND=noninteractive
# Reference servers (knot, nsd, gdnsd, bind9) must not start system services here:
# the tests start their own instances on loopback ports.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${want[@]}"
echo "install-deps: done"
