// Builds the page once and serves it twice for the e2e suite, with the
// stand-in weights hub part 2's tests download from:
//   GB_E2E_PORT       the page with COOP/COEP (cross-origin isolated: threaded build)
//   GB_E2E_PORT + 1   the page without them (GB_NO_COOP=1: single-thread fallback)
//   GB_E2E_PORT + 2   the "hub" (tests/e2e/weights-server.mjs): resolve URLs redirect to…
//   GB_E2E_PORT + 3   …the "cdn", which serves the weights python3-torch made for the tests
// The build's CSP lets the page connect to those two origins too (GB_CONNECT_SRC_EXTRA).
import { build, preview } from 'vite';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';

import { ensureFrozenFixtures } from './frozen/fixtures.mjs';
import { startWeightsServer } from './weights-server.mjs';

const configFile = fileURLToPath(new URL('../../web/vite.config.mjs', import.meta.url));
const port = Number(process.env.GB_E2E_PORT || 47311);

const wasmDir = fileURLToPath(new URL('../../web/public/wasm/', import.meta.url));
for (const m of ['gradbox-lesson', 'gradbox']) {
	for (const f of [`${m}-mt.mjs`, `${m}-mt.wasm`, `${m}-mt.worker.js`, `${m}-simd.mjs`, `${m}-simd.wasm`, `${m}-scalar.mjs`, `${m}-scalar.wasm`]) {
		if (!existsSync(wasmDir + f)) {
			console.error(`missing ${wasmDir}${f}: run scripts/build-wasm.sh first`);
			process.exit(1);
		}
	}
}
const { dir } = ensureFrozenFixtures();
const weights = await startWeightsServer({ fixturesDir: dir, port: port + 2, cdnPort: port + 3 });
process.env.GB_CONNECT_SRC_EXTRA = `${new URL(weights.hubUrl).origin} ${new URL(weights.cdnUrl).origin}`;
await build({ configFile, logLevel: 'warn' });
delete process.env.GB_NO_COOP;
await preview({ configFile, preview: { port, strictPort: true, host: '127.0.0.1' } });
process.env.GB_NO_COOP = '1';
await preview({ configFile, preview: { port: port + 1, strictPort: true, host: '127.0.0.1' } });
console.log(`e2e servers: http://127.0.0.1:${port}/ (isolated), http://127.0.0.1:${port + 1}/ (no COOP/COEP), ` +
	`weights hub ${weights.hubUrl} → cdn ${weights.cdnUrl}`);
