#!/usr/bin/env bash
# Sets up what is missing, builds the page and serves it, cross-origin isolated
# (COOP/COEP) so the threaded engine runs. PORT picks the port (default 8080).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
PORT="${PORT:-8080}"
say "building the page"
npx vite build --config web/vite.config.mjs --logLevel warn
say "serving on http://localhost:$PORT/  (Ctrl-C stops)"
exec npx vite preview --config web/vite.config.mjs --host 0.0.0.0 --port "$PORT" --strictPort
