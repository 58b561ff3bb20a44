#!/usr/bin/env bash
# Sets up what is missing, then runs every test:
#   1. ctest: the native engine under ASan/UBSan (per-op gradient checks, the
#      tutorial's numbers, parser errors)
#   2. node --test: the three wasm builds and the native build against the
#      PyTorch fixtures, the printouts, the CLI; ResNet-18 against torchvision
#      (fixtures made at test time by Debian's python3-torch)
#   3. the kernels' tests on the wasm builds, and the weight readers' libFuzzer
#      targets, briefly
#   4. Playwright (headless Chromium): the page, with and without COOP/COEP
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
status=0
say "ctest (native, sanitizers)"
(cd build/native && ctest --output-on-failure) || status=1
say "node --test (wasm builds + native vs PyTorch fixtures, CLI; ResNet-18 vs torchvision)"
timeout 1800 node --test tests/node/ tests/resnet/ || status=1
say "kernels on the wasm builds: SIMD128 vs scalar twins, 1/2/3 threads (under Node)"
timeout 900 make -s -C tests/kernels test >build/kernels-wasm.log 2>&1 || { tail -40 build/kernels-wasm.log; status=1; }
grep -c "all passed" build/kernels-wasm.log | sed "s/^/  suites passed: /" || true
say "libFuzzer: the safetensors and .pth readers, 30 s each under ASan/UBSan"
timeout 300 sh tests/fuzz/run.sh 30 || status=1
say "Playwright (headless Chromium)"
# (tests/e2e/serve.mjs builds the page.) Four free ports in a row: the isolated and the no-COOP
# pages, the stand-in weights hub and its cdn.
GB_E2E_PORT="$(node -e '
const net = require("net");
const free = (p) => new Promise((ok) => { const s = net.createServer(); s.once("error", () => ok(false)); s.listen(p, "127.0.0.1", () => s.close(() => ok(true))); });
(async () => { for (;;) { const p = 40000 + Math.floor(Math.random() * 20000); let all = true;
  for (let i = 0; i < 4 && all; i++) all = await free(p + i); if (all) { console.log(p); return; } } })();')"
export GB_E2E_PORT
timeout 1200 npx playwright test --config tests/e2e/playwright.config.mjs || status=1
if [ "$status" -ne 0 ]; then say "SOME TESTS FAILED"; else say "all suites passed"; fi
exit "$status"
