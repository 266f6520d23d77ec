#!/usr/bin/env bash
# bench/run.sh - gort against Go and Boost.Fiber on the same workloads, in
# one run, as one table (issue 5 §2).
#
#   bench/run.sh [--quick] [--only W1,W2,...] [REPS] [NAME]
#
# Installs golang-go, libboost-fiber-dev and libboost-context-dev with apt
# (sudo when not root), builds bench/gort_bench.cc and bench/boost/ with CMake
# (Release) in build-bench/, and bench/go/ with the Debian go (offline: the
# programs use the standard library only). Then, REPS times (default 5), it
# runs every workload once per system, alternating the systems (gort, go,
# boost, boost_pool, gort, go, ...), each run a fresh process, and prints the
# table: median [min-max] per system, gort's median over each peer's, and
# issue 5 §3's target for the row. The table, the machine, kernel,
# compilers, flags, load and the raw lines go to
# bench/results/<UTC date>-<NAME>.md (NAME default: peers).
#
# --quick: one repetition of counts divided by 10, a smoke run of the
# machinery; its numbers are not comparable, so it writes
# build-bench/quick.md instead of a file under bench/results/.
# --only: run just the named workloads (e.g. --only fanout,idle).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
args="$*"
reps="" quick=0 name=peers only=""
while (($#)); do
  a=$1
  shift
  case "$a" in
    --quick) quick=1 ;;
    --only) only=",${1:?--only needs a list},"; shift ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    ''|*[!0-9]*) name=$a ;;
    *) reps=$a ;;
  esac
done
[ -n "$reps" ] || { if ((quick)); then reps=1; else reps=5; fi; }
((reps >= 1)) || { echo "run.sh: REPS must be at least 1" >&2; exit 2; }

# ---- dependencies (bench only; scripts/deps.sh has the project's) ----
pkgs=(cmake make g++ pkg-config libmimalloc-dev libunwind-dev golang-go libboost-fiber-dev libboost-context-dev)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "run.sh: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# ---- build ----
B=build-bench
jobs=${JOBS:-2}
cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=Release -DGORT_BUILD_BENCH=ON -DGORT_BUILD_TESTS=OFF \
  -DGORT_BUILD_EXAMPLES=OFF >/dev/null
cmake --build "$B" -j"$jobs" --target gort_bench boost_bench >/dev/null
export GOFLAGS=-mod=mod GOPROXY=off GOTOOLCHAIN=local GOCACHE="$root/$B/go-cache" GOPATH="$root/$B/go-path"
(cd bench/go && go build -o "$root/$B/bench/go_bench" . && go build -o "$root/$B/bench/bench_report" ./report)

# ---- the plan: workload, procs, systems (boost_pool only where stacks are
# allocated per fiber, i.e. where the allocator matters) ----
plan=(
  "raw_switch 1 gort boost"
  "yield 1 gort go boost"
  "park_ready 1 gort go boost"
  "park_ready 2 gort go boost"
  "chan_pingpong 1 gort go boost"
  "chan_pingpong 2 gort go boost"
  "spawn_join 1 gort go boost boost_pool"
  "spawn_join 2 gort go boost boost_pool"
  "skynet 1 gort go boost boost_pool"
  "skynet 2 gort go boost boost_pool"
  "mutex 2 gort go boost"
  "memory_default 1 gort go boost boost_pool"
  "memory_2k 1 gort go boost boost_pool"
  "fanout 2 gort go boost"
  "idle 2 gort go boost"
)
q_gort=() q_go=() q_boost=()
if ((quick)); then q_gort=(--quick) q_go=(-quick) q_boost=(--quick); fi

run_one() {  # sys workload procs: prints the program's lines, or a FAIL line
  local sys=$1 w=$2 p=$3 cmd
  case "$sys" in
    gort) cmd=("$B/bench/gort_bench" --machine --reps 1 --filter "$w" --procs "$p" "${q_gort[@]}") ;;
    go) cmd=("$B/bench/go_bench" -workload "$w" -procs "$p" "${q_go[@]}") ;;
    boost) cmd=("$B/bench/boost_bench" --workload "$w" --procs "$p" "${q_boost[@]}") ;;
    boost_pool) cmd=("$B/bench/boost_bench" --workload "$w" --procs "$p" --pool "${q_boost[@]}") ;;
  esac
  local rc=0
  timeout 600 "${cmd[@]}" || rc=$?
  ((rc == 0)) || echo "FAIL $sys $w $p exit status $rc"
}

raw=$(mktemp)
trap 'rm -f "$raw"' EXIT
started=$(date -u '+%Y-%m-%d %H:%M:%S UTC')
t0=$(date +%s)
for ((r = 1; r <= reps; r++)); do
  echo "LOAD rep $r start: $(cat /proc/loadavg)" | tee -a "$raw" >&2
  for row in "${plan[@]}"; do
    read -r w p systems <<<"$row"
    [ -z "$only" ] || [[ "$only" == *",$w,"* ]] || continue
    for sys in $systems; do
      run_one "$sys" "$w" "$p" | tee -a "$raw" | grep -E '^(BENCH|NA|FAIL)' >&2 || true
    done
  done
done
echo "LOAD end: $(cat /proc/loadavg)" >>"$raw"
secs=$(($(date +%s) - t0))

table=$("$B/bench/bench_report" <"$raw")

# ---- the record ----
cxxflags=$(sed -n 's/^CMAKE_CXX_FLAGS_RELEASE:STRING=//p' "$B/CMakeCache.txt")
if ((quick)); then out="$B/quick.md"; else out="bench/results/$(date -u +%F)-$name.md"; fi
{
  echo "# gort vs Go vs Boost.Fiber: $name"
  echo
  echo "- date: $started ($secs s); command: \`bench/run.sh $args\` ($reps repetitions$( ((quick)) && echo ', --quick: counts / 10'))"
  echo "- machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs online ($(lscpu | sed -n 's/^CPU(s): *//p') in lscpu, $(lscpu | sed -n 's/^Thread(s) per core: *//p') thread(s) per core), $(free -g | awk '/^Mem:/{print $2}') GiB"
  echo "- kernel: $(uname -sr); $(. /etc/os-release && echo "$PRETTY_NAME")"
  echo "- gort and Boost programs: $(g++ --version | head -1), CMake Release ($cxxflags), static libgort, mimalloc $(dpkg-query -W -f='${Version}' libmimalloc-dev 2>/dev/null || echo '?')"
  echo "- Boost.Fiber $(dpkg-query -W -f='${Version}' libboost-fiber-dev), Boost.Context $(dpkg-query -W -f='${Version}' libboost-context-dev)"
  echo "- Go: $(go version | sed 's/^go version //') (default gc flags, GOGC=${GOGC:-100})"
  echo "- load average (1/5/15 min) during the run, per repetition:"
  grep '^LOAD' "$raw" | sed 's/^LOAD /  - /'
  echo
  echo "Cells: median [min–max] of the $reps runs; ratios: gort's median / the peer's."
  echo "Lower is better except fanout (speed-up, higher is better). boost: Boost.Fiber"
  echo "with its default fixedsize_stack (malloc per fiber); boost_pool: with"
  echo "pooled_fixedsize_stack (std::mutex-guarded when procs > 1). 2 procs on"
  echo "Boost: algo::work_stealing across 2 threads (suspend=false, its default;"
  echo "idle: suspend=true). memory rows: every system's goroutines block on a"
  echo "receive from one unbuffered channel."
  echo
  echo "$table"
  if grep -q '^FAIL' "$raw"; then
    echo
    echo "Failed runs:"
    echo
    grep '^FAIL' "$raw" | sed 's/^/- /'
  fi
  echo
  echo "<details><summary>raw lines</summary>"
  echo
  echo '```'
  cat "$raw"
  echo '```'
  echo "</details>"
} >"$out"
echo
echo "$table"
echo
echo "run.sh: wrote $out"
