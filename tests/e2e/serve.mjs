// Builds the page once and serves it twice for the e2e suite:
//   GB_E2E_PORT     with COOP/COEP (cross-origin isolated: threaded build)
//   GB_E2E_PORT + 1 without them (GB_NO_COOP=1: single-thread fallback)
import { build, preview } from 'vite';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';

const configFile = fileURLToPath(new URL('../../web/vite.config.mjs', import.meta.url));
const port = Number(process.env.GB_E2E_PORT || 47311);

const wasmDir = fileURLToPath(new URL('../../web/public/wasm/', import.meta.url));
for (const f of ['gradbox-lesson-mt.mjs', 'gradbox-lesson-mt.wasm', 'gradbox-lesson-mt.worker.js', 'gradbox-lesson-simd.mjs',
	'gradbox-lesson-simd.wasm', 'gradbox-lesson-scalar.mjs', 'gradbox-lesson-scalar.wasm']) {
	if (!existsSync(wasmDir + f)) {
		console.error(`missing ${wasmDir}${f}: run scripts/build-wasm.sh first`);
		process.exit(1);
	}
}
await build({ configFile, logLevel: 'warn' });
delete process.env.GB_NO_COOP;
await preview({ configFile, preview: { port, strictPort: true, host: '127.0.0.1' } });
process.env.GB_NO_COOP = '1';
await preview({ configFile, preview: { port: port + 1, strictPort: true, host: '127.0.0.1' } });
console.log(`e2e servers: http://127.0.0.1:${port}/ (isolated), http://127.0.0.1:${port + 1}/ (no COOP/COEP)`);
