#!/usr/bin/env bash
# Installs dependencies, builds gort with its tests, and runs every test.
#   ./scripts/test.sh                       Release build in build/
#   GORT_SANITIZE=thread ./scripts/test.sh  sanitizer build in build-thread/
#   GORT_CC=clang GORT_SANITIZE=thread ./scripts/test.sh
#                                           the same with clang, in build-clang-thread/
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/deps.sh
# The layering and atomics rules (docs/DESIGN.md, "Layers"): no build needed.
python3 scripts/check_layers.py
san="${GORT_SANITIZE:-}"
cc="${GORT_CC:-}"
case "$cc" in
  "") ;;
  clang) export CC=clang CXX=clang++ ;;
  gcc) export CC=gcc CXX=g++ ;;
  *) echo "test.sh: GORT_CC must be gcc or clang" >&2; exit 2 ;;
esac
dir="build${cc:+-$cc}${san:+-$san}"
type="Release"
[ -n "$san" ] && type="RelWithDebInfo"
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE="$type" -DGORT_SANITIZE="$san" -DGORT_BUILD_TESTS=ON >/dev/null
cmake --build "$dir" -j "$(nproc)"
jobs=1  # the scheduler tests measure parallelism and idleness: run them alone
ctest --test-dir "$dir" --output-on-failure -j "$jobs" --timeout 900
