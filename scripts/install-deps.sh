#!/usr/bin/env bash
# Installs every Debian package Tempo Runtime needs to build, test and benchmark.
# Idempotent: when everything is present it returns in well under a second.
set -euo pipefail
PKGS=(
  build-essential cmake ninja-build ccache pkg-config python3
  clang libclang-rt-14-dev clang-format
  libboost1.81-dev libsimdjson-dev libre2-dev libxxhash-dev
  librocksdb-dev libcli11-dev libyaml-cpp-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  librdkafka-dev libmemcached-dev libpq-dev libssl-dev
  memcached kcat postgresql
  curl wrk nginx-light openssl
  libspdlog-dev libsystemd-dev systemd dpkg-dev
  chromium chromium-driver
)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
