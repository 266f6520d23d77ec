#!/usr/bin/env bash
# Installs everything gort needs on a fresh Debian 12 machine (as root, or
# with sudo). Safe to run again: apt-get skips what is installed.
set -euo pipefail
# valgrind: its client-request header lets gort register stacks with it.
# clang, libclang-rt-14-dev: the TSan and UBSan passes of .ci/run build with clang.
# bench/run.sh installs the benchmark peers itself (golang-go,
# libboost-fiber-dev, libboost-context-dev); the tests do not need them.
pkgs=(cmake make g++ clang libclang-rt-14-dev pkg-config python3 libmimalloc-dev libunwind-dev libgtest-dev valgrind)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "deps: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
