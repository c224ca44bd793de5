#!/usr/bin/env bash
# Installs runnel from the build tree into a temporary prefix and builds a
# consumer against it with find_package(runnel) and with pkg-config.
# Usage: package_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1 src=$2
tmp=$(mktemp -d)
trap 'rc=$?; [ $rc -eq 0 ] || cat "$tmp"/*.log >&2; rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" > "$tmp/install.log"
export PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig:${PKG_CONFIG_PATH:-}"
cmake -S "$src/tests/package" -B "$tmp/consumer" -G Ninja \
  -DCMAKE_PREFIX_PATH="$tmp/prefix" > "$tmp/configure.log"
cmake --build "$tmp/consumer" > "$tmp/build.log"
"$tmp/consumer/consumer_cmake" "$tmp/db1"
"$tmp/consumer/consumer_pkgconfig" "$tmp/db2"
