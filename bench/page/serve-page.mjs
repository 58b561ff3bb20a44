// serve-page.mjs: what the page benches share: the e2e suite's seeded random ResNet-18 on the
// stand-in hub (tests/e2e/weights-server.mjs), the page built with that hub allowed by its CSP,
// and a preview server on a free port.
//   const page = await servePage('bench-studio-dist', log); … page.url; … await page.close();
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

import { build, preview } from 'vite';

import { ensureFrozenFixtures } from '../../tests/e2e/frozen/fixtures.mjs';
import { startWeightsServer } from '../../tests/e2e/weights-server.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const freePort = () => new Promise((res) => {
	const s = createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => res(p)); });
});

/**
 * Builds the page into build/<distName> and serves it.
 * @returns {Promise<{ url: string, weights: object, close: () => Promise<void> }>} url opens the
 *   page with ?weights= pointing at the hub's test weights
 */
export async function servePage(distName, log = () => {}) {
	const { dir } = ensureFrozenFixtures();
	const weights = await startWeightsServer({ fixturesDir: dir });
	const outDir = `${ROOT}build/${distName}`;
	const configFile = `${ROOT}web/vite.config.mjs`;
	process.env.GB_CONNECT_SRC_EXTRA = `${new URL(weights.hubUrl).origin} ${new URL(weights.cdnUrl).origin}`;
	log('building the page…');
	await build({ configFile, logLevel: 'warn', build: { outDir, emptyOutDir: true } });
	const port = await freePort();
	const server = await preview({ configFile, build: { outDir }, preview: { port, strictPort: true, host: '127.0.0.1' }, logLevel: 'warn' });
	return {
		url: `http://127.0.0.1:${port}/?weights=${encodeURIComponent(weights.url)}`,
		weights,
		async close() {
			await server.close();
			await weights.close();
		},
	};
}
