#!/usr/bin/env bash
# Builds the wasm modules with Emscripten, three variants each (mt, simd,
# scalar): gradbox-* (the whole engine) and gradbox-lesson-* (the autograd
# lesson alone), and puts them where the page and the Node package load them
# from (web/public/wasm/).
set -euo pipefail
cd "$(dirname "$0")/.."
export NODE_PATH=/usr/share/nodejs   # Debian's emscripten needs it (acorn)
if [ ! -f build/wasm/CMakeCache.txt ]; then
  emcmake cmake -S . -B build/wasm -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build build/wasm -j"$(nproc)" 2>&1 | grep -v -e 'pthreads-mem-growth' -e 'USE_PTHREADS + ALLOW_MEMORY_GROWTH' || true
test -f build/wasm/gradbox-scalar.wasm && test -f build/wasm/gradbox-lesson-scalar.wasm
mkdir -p web/public/wasm
for m in gradbox gradbox-lesson; do
  cp build/wasm/$m-{mt,simd,scalar}.{mjs,wasm} build/wasm/$m-mt.worker.js web/public/wasm/
done
