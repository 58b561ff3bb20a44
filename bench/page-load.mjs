// page-load.mjs: page load to interactive in headless Chromium: from navigation
// to the first printout computed by the engine (`tensor([36., 81.])`), for each
// build. Serves the built page (web/dist) with vite preview on a free port.
//   npx vite build --config web/vite.config.mjs && node bench/page-load.mjs [--runs N]
// Target (issue 2): < 1.5 s.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 10;
const root = fileURLToPath(new URL('..', import.meta.url));
const port = await new Promise((res) => {
	const s = createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => res(p)); });
});
const server = spawn(process.execPath, [`${root}node_modules/vite/bin/vite.js`, 'preview', '--config', 'web/vite.config.mjs',
	'--port', String(port), '--strictPort', '--host', '127.0.0.1'], { cwd: root, stdio: 'ignore' });
try {
	const base = `http://127.0.0.1:${port}/`;
	for (let i = 0; i < 50; i++) {
		try { if ((await fetch(base)).ok) break; } catch { /* not up yet */ }
		await new Promise((r) => setTimeout(r, 200));
	}
	const browser = await chromium.launch({
		executablePath: '/usr/bin/chromium',
		args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
			'--disable-component-update', '--disable-sync'],
	});
	const rows = [];
	for (const [label, query] of [['mt (auto)', ''], ['simd', '?build=simd'], ['scalar', '?build=scalar']]) {
		const times = [];
		for (let i = 0; i < runs + 1; i++) {
			const ctx = await browser.newContext();   // a cold cache every time
			const page = await ctx.newPage();
			const t0 = Date.now();
			await page.goto(base + query);
			await page.getByText('tensor([36., 81.])').first().waitFor({ timeout: 30_000 });
			if (i > 0) times.push(Date.now() - t0);  // the first load also warms the server
			await ctx.close();
		}
		times.sort((a, b) => a - b);
		rows.push({ build: label, 'median ms': times[times.length >> 1], 'min ms': times[0], 'max ms': times.at(-1) });
	}
	await browser.close();
	console.log(`page load to first engine printout, ${runs} cold loads each`);
	console.table(rows);
} finally {
	server.kill();
}
