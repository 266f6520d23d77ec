#!/usr/bin/env bash
# Installs dependencies, builds gort in Release, and runs the demo: the
# skynet tree of 1,000,000 goroutines, at 1 and 2 procs.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$(nproc)" --target skynet
for p in 1 2; do
  GORT_MAXPROCS=$p ./build/examples/skynet 1000000
done
