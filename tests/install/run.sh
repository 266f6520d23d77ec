#!/usr/bin/env bash
# tests/install/run.sh BUILD_DIR LIBDIR VERSION CMAKE CC PKG_CONFIG
#
# Installs the build in BUILD_DIR into a fresh prefix and uses it the three
# ways docs/INSTALL.md describes, as a C program that knows only the
# installed tree would:
#   1. the layout: header, libgort.so.VERSION with its SONAME links,
#      libgort.a, the CMake package and gort.pc;
#   2. find_package(gort) (tests/install/find_package): one executable on
#      gort::gort, one on gort::gort_static;
#   3. pkg-config: cc with `pkg-config --cflags --libs gort`, and the static
#      link line with `pkg-config --static`;
#   4. add_subdirectory (tests/install/subdir), configured only: the gort::
#      aliases exist and gort's tests, examples and install rules are off.
# Each program of 2 and 3 runs a goroutine, exits 0 only if it ran, and prints the
# loaded library's version, which must be VERSION. The shared programs must
# load libgort.so from the prefix; the static ones must not load it at all.
# Every step is bounded by `timeout`; the prefix is removed on exit.
set -euo pipefail
build=$1
libdir=$2
version=$3
cmake=$4
cc=$5
pkgconfig=$6
here=$(cd "$(dirname "$0")" && pwd)
major=${version%%.*}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/gort-install-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
lib=$prefix/$libdir

fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "== $*"; }
# run_consumer NAME EXE [ENV...]: runs EXE with only the given environment
# additions (no inherited LD_LIBRARY_PATH) and checks its output.
run_consumer() {
  local name=$1 exe=$2 out
  shift 2
  out=$(env -u LD_LIBRARY_PATH "$@" timeout 60 "$exe") || fail "$name: exit $?"
  [ "$out" = "gort $version" ] || fail "$name printed '$out', want 'gort $version'"
  echo "$name: $out"
}
# loads_installed NAME EXE [ENV...]: libgort.so.MAJOR resolves into the prefix.
loads_installed() {
  local name=$1 exe=$2 where
  shift 2
  where=$(env -u LD_LIBRARY_PATH "$@" ldd "$exe" | awk '$1 == "libgort.so.'"$major"'" { print $3 }')
  [ "$where" = "$lib/libgort.so.$major" ] || fail "$name loads libgort.so.$major from '$where', not $lib"
}
# no_libgort NAME EXE: a static consumer does not need libgort.so at all.
no_libgort() {
  if readelf -d "$2" | grep -q 'NEEDED.*libgort'; then fail "$1 needs libgort.so"; fi
}

step "install into $prefix"
timeout 120 "$cmake" --install "$build" --prefix "$prefix" > "$tmp/install.log" ||
  { cat "$tmp/install.log"; fail "cmake --install"; }

step "layout"
cmp "$prefix/include/gort/gort.h" "$here/../../capi/include/gort/gort.h" || fail "installed gort.h differs"
[ -f "$lib/libgort.so.$version" ] && [ ! -L "$lib/libgort.so.$version" ] || fail "no $lib/libgort.so.$version"
[ "$(readlink "$lib/libgort.so.$major")" = "libgort.so.$version" ] || fail "libgort.so.$major link"
[ "$(readlink "$lib/libgort.so")" = "libgort.so.$major" ] || fail "libgort.so link"
soname=$(readelf -d "$lib/libgort.so.$version" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = "libgort.so.$major" ] || fail "SONAME is '$soname', want libgort.so.$major"
[ -f "$lib/libgort.a" ] || fail "no libgort.a"
for f in gortConfig.cmake gortConfigVersion.cmake gortTargets.cmake; do
  [ -f "$lib/cmake/gort/$f" ] || fail "no $lib/cmake/gort/$f"
done
[ -f "$lib/pkgconfig/gort.pc" ] || fail "no gort.pc"

step "find_package(gort)"
fp=$tmp/find_package
timeout 120 "$cmake" -S "$here/find_package" -B "$fp" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_C_COMPILER="$cc" -DCMAKE_PREFIX_PATH="$prefix" > "$tmp/fp.log" 2>&1 ||
  { cat "$tmp/fp.log"; fail "find_package consumer: configure"; }
# The package found must be this install's, not one elsewhere on the system.
grep -qx "gort_DIR:PATH=$lib/cmake/gort" "$fp/CMakeCache.txt" ||
  fail "find_package found $(grep '^gort_DIR' "$fp/CMakeCache.txt")"
timeout 120 "$cmake" --build "$fp" > "$tmp/fp_build.log" 2>&1 ||
  { cat "$tmp/fp_build.log"; fail "find_package consumer: build"; }
# CMake's build RPATH points consumer_shared at the imported libgort.so.
loads_installed consumer_shared "$fp/consumer_shared"
run_consumer consumer_shared "$fp/consumer_shared"
no_libgort consumer_static "$fp/consumer_static"
run_consumer consumer_static "$fp/consumer_static"

step "pkg-config"
export PKG_CONFIG_PATH=$lib/pkgconfig
[ "$("$pkgconfig" --modversion gort)" = "$version" ] || fail "pkg-config --modversion"
# gort.pc is written at install time: its prefix is the --prefix given then.
[ "$("$pkgconfig" --variable=prefix gort)" = "$prefix" ] || fail "gort.pc prefix is $("$pkgconfig" --variable=prefix gort)"
cflags=(-std=c99 -Wall -Wextra -Werror -pedantic)
# shellcheck disable=SC2046  # pkg-config output is meant to be split
timeout 120 "$cc" "${cflags[@]}" "$here/consumer.c" -o "$tmp/pc_shared" \
  $("$pkgconfig" --cflags --libs gort) || fail "pkg-config shared: build"
loads_installed pc_shared "$tmp/pc_shared" LD_LIBRARY_PATH="$lib"
run_consumer pc_shared "$tmp/pc_shared" LD_LIBRARY_PATH="$lib"
# The static link line of docs/INSTALL.md: libgort.a by -Bstatic, then what
# it needs; --as-needed drops the libgort.so that pkg-config's -lgort names.
# shellcheck disable=SC2046
timeout 120 "$cc" "${cflags[@]}" "$here/consumer.c" -o "$tmp/pc_static" $("$pkgconfig" --cflags gort) \
  -Wl,-Bstatic -lgort -Wl,-Bdynamic -Wl,--as-needed $("$pkgconfig" --static --libs gort) ||
  fail "pkg-config static: build"
no_libgort pc_static "$tmp/pc_static"
run_consumer pc_static "$tmp/pc_static"

step "add_subdirectory (configure only: building would compile gort again)"
sd=$tmp/subdir
timeout 120 "$cmake" -S "$here/subdir" -B "$sd" -DGORT_SOURCE_DIR="$here/../.." \
  -DCMAKE_C_COMPILER="$cc" > "$tmp/sd.log" 2>&1 || { cat "$tmp/sd.log"; fail "add_subdirectory: configure"; }
# The gort:: aliases resolved (else the generate step above failed); gort's
# tests and examples directories were never added, and it has no install rules.
for d in tests examples; do
  [ ! -e "$sd/gort/$d" ] || fail "add_subdirectory: gort's $d were configured"
done
grep -qx "GORT_BUILD_TESTS:BOOL=OFF" "$sd/CMakeCache.txt" || fail "add_subdirectory: GORT_BUILD_TESTS not OFF"
[ -f "$sd/gort/cmake_install.cmake" ] && ! grep -q gortTargets "$sd/gort/cmake_install.cmake" ||
  fail "add_subdirectory: gort's install rules are on"

echo "ok: install, find_package (shared, static), pkg-config (shared, static), add_subdirectory"
