#!/usr/bin/env bash
# Installs runnel from the build tree into a temporary prefix and builds a
# consumer against it: with find_package(runnel), with pkg-config through
# CMake, and with pkg-config on a plain compiler command line (--static for a
# static librunnel, without it for a shared one, which must then not list
# runnel's own dependencies). Then configures a project that includes runnel
# with add_subdirectory and checks runnel's tests are not part of it.
# Usage: package_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1 src=$2
tmp=$(mktemp -d)
trap 'rc=$?; [ $rc -eq 0 ] || cat "$tmp"/*.log >&2; rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" > "$tmp/install.log"
libdir=$(dirname "$(find "$tmp/prefix" -name runnel.pc -path '*/pkgconfig/*')")/..
export PKG_CONFIG_PATH="$libdir/pkgconfig:${PKG_CONFIG_PATH:-}"
cmake -S "$src/tests/package" -B "$tmp/consumer" -G Ninja \
  -DCMAKE_PREFIX_PATH="$tmp/prefix" > "$tmp/configure.log"
cmake --build "$tmp/consumer" > "$tmp/build.log"
export LD_LIBRARY_PATH="$libdir:${LD_LIBRARY_PATH:-}"  # a shared librunnel
"$tmp/consumer/consumer_cmake" "$tmp/db1"
"$tmp/consumer/consumer_pkgconfig" "$tmp/db2"

# The compiler command line a Makefile would use.
if [ -e "$libdir/librunnel.a" ]; then
  libs=$(pkg-config --static --libs runnel)
else
  libs=$(pkg-config --libs runnel)
  case " $libs " in
    *" -lleveldb "* | *" -lcapnp "*)
      echo "shared librunnel: pkg-config --libs lists its dependencies: $libs" >&2
      exit 1 ;;
  esac
fi
echo "c++ ... $libs" > "$tmp/pkgconfig-cli.log"
${CXX:-c++} -o "$tmp/consumer_cli" "$src/tests/package/consumer.cc" \
  $(pkg-config --cflags runnel) $libs >> "$tmp/pkgconfig-cli.log" 2>&1
"$tmp/consumer_cli" "$tmp/db3"

# runnel inside another project: configured only (building it would compile
# the library once more).
cmake -S "$src/tests/package/subproject" -B "$tmp/subproject" -G Ninja \
  -DRUNNEL_SOURCE_DIR="$src" > "$tmp/subproject.log"
