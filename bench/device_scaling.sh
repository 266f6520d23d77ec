#!/usr/bin/env bash
# bench/device_scaling.sh - gort against Go over 1..16 procs on a many-core
# machine, the two systems alternating for each point (same workloads as
# bench/run.sh). Needs prebuilt binaries in DIR (default build-dev):
#   gort_bench (cmake -DGORT_BUILD_BENCH=ON), gortbench (bench/go, go build),
#   and lib/ with gort_bench's shared libraries if the machine lacks them.
#   bench/device_scaling.sh [DIR] [REPS] [PROCS...]
set -u
D=${1:-build-dev}
REPS=${2:-3}
shift 2 2>/dev/null || true
PROCS=${*:-1 2 4 8 16}
export LD_LIBRARY_PATH="$D/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
echo "INFO machine $(nproc) cpus; $(lscpu | sed -n 's/^Model name: *//p'); kernel $(uname -r); $(date -u +%FT%TZ)"
for w in spawn_join skynet park_ready fanout; do
  for p in $PROCS; do
    timeout 120 "$D/gort_bench" --procs "$p" --reps "$REPS" --filter "$w" --machine | grep -v '^INFO' || echo "FAIL gort $w $p"
    timeout 120 "$D/gortbench" -workload "$w" -procs "$p" -reps "$REPS" | grep -v '^INFO' || echo "FAIL go $w $p"
  done
done
