#!/bin/sh
# Builds the libFuzzer targets with Debian's clang 14 and runs each for
# SECONDS (default 60), one process at a time (the build machines are small).
#   tests/fuzz/run.sh [SECONDS] [safetensors|pth]
# Found inputs grow a working corpus in build-fuzz/corpus_*, seeded from the
# small committed tests/fuzz/corpus_*; crashes land in build-fuzz/ as crash-*.
set -e
seconds=${1:-60}
targets=${2:-safetensors pth}
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$root/build-fuzz
cc=${CC:-clang-14}
mkdir -p "$out"
for target in $targets; do
    $cc -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
        -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION \
        "-DGB_SD_MAX_TOTAL_NUMEL=((int64_t)1 << 22)" -I"$root/engine/nn/io" \
        "$root/tests/fuzz/fuzz_$target.c" "$root"/engine/nn/io/*.c "$root/engine/core/status.c" -lm \
        -o "$out/fuzz_$target"
done
status=0
for target in $targets; do
    mkdir -p "$out/corpus_$target"
    log=$out/fuzz-$target.log
    echo "fuzz_$target: ${seconds}s"
    (cd "$out" && ./fuzz_$target -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=65536 \
        -dict="$root/tests/fuzz/$target.dict" -print_final_stats=1 \
        "corpus_$target" "$root/tests/fuzz/corpus_$target") >"$log" 2>&1 || status=1
    grep -E "^Done|^stat::|ERROR|SUMMARY" "$log" || true
    grep -q "^Done" "$log" || { grep -v "# Uses:" "$log" | tail -n 40; status=1; }
done
exit $status
