#!/bin/sh
# Native build of the weights I/O tests, with ASan + UBSan (the lead's CMake
# build uses engine/nn/io/io.cmake; this is for working on io alone).
#   tests/io/build.sh [outdir]    then run outdir/test_*
set -e
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$root/build-io}
mkdir -p "$out"
cc=${CC:-gcc}
flags="-DGB_IO_FIXTURE_DIR=\"$root/tests/fixtures/io\" -DGB_IO_SCRIPT_DIR=\"$root/tests/io\" -D_GNU_SOURCE -std=c11 -g -O1 -Wall -Wextra -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all"
src="$root/engine/nn/io/*.c $root/engine/core/status.c"
for t in "$root"/tests/io/test_*.c; do
    name=$(basename "$t" .c)
    $cc $flags -I"$root/engine/nn/io" "$t" $src -lm -o "$out/$name"
done
echo "built in $out"
