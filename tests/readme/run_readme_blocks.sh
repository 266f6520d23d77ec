#!/usr/bin/env bash
# tests/readme/run_readme_blocks.sh - README.md's complete C programs must
# compile, run and print what the README says they print (ctest:
# readme_examples).
#
#   run_readme_blocks.sh README CC INCLUDE_DIR LIB_DIR WORK_DIR [CFLAG...]
#
# A complete program is a fenced block opened by a line "```c" whose body
# contains "int main". The next non-blank line after its closing fence must
# open a "```text" block: that block's body is the program's exact standard
# output. A program without one fails the test (so no program in the README
# goes untested). Other blocks (```c fragments, ```sh, output listings) are
# not touched.
#
# Each program is compiled with CC -Wall -Wextra -Werror against
# INCLUDE_DIR (the public header) and LIB_DIR/libgort.so, with an rpath to
# LIB_DIR (the README's build-tree command), plus the CFLAGs (a sanitizer
# build passes its -fsanitize flags: the program links the sanitized
# library). It then runs REPS times (environment, default 20) at
# GORT_MAXPROCS=1 and at 2; every run must exit 0 within 60 s and print the
# expected text exactly. Other GORT_* variables are cleared.
set -euo pipefail

if [ $# -lt 5 ]; then
  echo "usage: $0 README CC INCLUDE_DIR LIB_DIR WORK_DIR [CFLAG...]" >&2
  exit 2
fi
readme=$1 cc=$2 incdir=$3 libdir=$4 work=$5
shift 5
reps=${REPS:-20}
libdir=$(cd "$libdir" && pwd)  # the rpath must not depend on the working directory
unset GORT_DEBUG GORT_STACKSIZE GORT_MAXPROCS

rm -rf "$work"
mkdir -p "$work"

# Extract: block_N.c (N: the README line of its opening fence), and
# block_N.expected when a ```text block follows it.
awk -v dir="$work" '
  function finish_expect() { close(outf); mode = "" }
  mode == "" && /^```c[ \t]*$/ { mode = "c"; start = NR; body = ""; pending = ""; next }
  mode == "c" && /^```[ \t]*$/ {
    mode = ""
    if (body ~ /int[ \t]+main[ \t]*\(/) {
      src = dir "/block_" start ".c"
      printf "%s", body > src; close(src)
      pending = start  # look for its ```text block
    }
    next
  }
  mode == "c" { body = body $0 "\n"; next }
  mode == "text" && /^```[ \t]*$/ { finish_expect(); next }
  mode == "text" { print > outf; next }
  pending != "" && /^[ \t]*$/ { next }
  pending != "" && /^```text[ \t]*$/ {
    outf = dir "/block_" pending ".expected"; printf "" > outf
    mode = "text"; pending = ""; next
  }
  pending != "" { pending = "" }  # something else came first: no expected output
' "$readme"

shopt -s nullglob
srcs=("$work"/block_*.c)
if [ ${#srcs[@]} -eq 0 ]; then
  echo "FAIL: no complete C program (\`\`\`c block with int main) found in $readme" >&2
  exit 1
fi

fail=0
for src in "${srcs[@]}"; do
  base=${src%.c}
  line=${base##*_}
  where="$readme:$line"
  if [ ! -e "$base.expected" ]; then
    echo "FAIL $where: the program is not followed by a \`\`\`text block with its expected output" >&2
    fail=1
    continue
  fi
  if ! "$cc" -Wall -Wextra -Werror "$@" -I"$incdir" "$src" -o "$base" \
      -L"$libdir" -lgort -Wl,-rpath,"$libdir" 2>"$base.cc.log"; then
    echo "FAIL $where: does not compile:" >&2
    cat "$base.cc.log" >&2
    fail=1
    continue
  fi
  for procs in 1 2; do
    bad=0
    for ((i = 1; i <= reps; i++)); do
      rc=0
      GORT_MAXPROCS=$procs timeout 60 "$base" >"$base.out" 2>"$base.err" || rc=$?
      if [ "$rc" -ne 0 ] || ! cmp -s "$base.out" "$base.expected"; then
        if [ "$bad" -eq 0 ]; then
          echo "FAIL $where: GORT_MAXPROCS=$procs run $i: exit status $rc (124: timed out)" >&2
          echo "--- expected stdout" >&2; cat "$base.expected" >&2
          echo "--- actual stdout" >&2; cat "$base.out" >&2
          echo "--- stderr" >&2; cat "$base.err" >&2
        fi
        bad=$((bad + 1))
      fi
    done
    if [ "$bad" -ne 0 ]; then
      echo "FAIL $where: GORT_MAXPROCS=$procs: $bad of $reps runs wrong" >&2
      fail=1
    else
      echo "ok $where: GORT_MAXPROCS=$procs: $reps of $reps runs printed the expected output"
    fi
  done
done
exit $fail
