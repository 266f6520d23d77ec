#!/usr/bin/env bash
# tests/install/check_exports.sh NM LIBGORT_SO - fails unless every dynamic
# symbol libgort.so defines is a gort_* entry point (capi/libgort.map). A
# leaked C++ symbol (a std::call_once lambda, an inline function, a template
# instantiation) would become ABI by accident, and another copy of it in the
# process could interpose it.
set -euo pipefail
nm=$1
lib=$2

# "ADDRESS TYPE NAME[@VERSION]" per line; keep NAME.
syms=$("$nm" -D --defined-only "$lib" | awk 'NF >= 3 { sub(/@.*/, "", $3); print $3 }')
total=$(printf '%s\n' "$syms" | grep -c . || true)
api=$(printf '%s\n' "$syms" | grep -c '^gort_' || true)
bad=$(printf '%s\n' "$syms" | grep -v '^gort_' | grep . || true)

# An empty or broken listing must not pass: the entry points are there.
for s in gort_init gort_go gort_version gort_abi_version; do
  if ! printf '%s\n' "$syms" | grep -qx "$s"; then
    echo "FAIL: $lib does not export $s (nm listed $total symbols)" >&2
    exit 1
  fi
done
if [ -n "$bad" ]; then
  echo "FAIL: $lib exports symbols outside the C ABI:" >&2
  printf '  %s\n' $bad >&2
  exit 1
fi
echo "ok: $lib exports $api symbols, all gort_*"
