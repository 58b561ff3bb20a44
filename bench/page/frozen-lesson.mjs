// frozen-lesson.mjs: part 2 of the page (frozen parameters) in headless Chromium, against the
// e2e suite's local "hub" (tests/e2e/weights-server.mjs) serving seeded random ResNet-18
// weights made by python3-torch (tests/e2e/frozen/fixtures.mjs). Builds the page into
// build/bench-frozen-dist (its CSP lets it reach that server) and measures, in one browser
// profile so Cache Storage persists between visits:
//   cold load      open part 2 → weights downloaded (46 MB from localhost) and loaded
//   first paint    click "open part 2" → part 2's section on screen, model cached
//   cached load    click "open part 2" → weights loaded from Cache Storage, model ready
//   forward        one 224×224 forward on the ImageNet head, timed in the worker
//   backward       who-gets-grad: backward with the tutorial's state (new fc only) against
//                  everything trainable, timed in the engine, and their ratio
// Prints a table (median, min, max over --runs visits); --json prints the rows as JSON instead.
//   node bench/page/frozen-lesson.mjs [--runs N] [--json] [--out rows.json]
// Targets (issue 16): cached load and first paint ≤ 300 ms for the paint; frozen backward ≤ 15 %
// of the full one.
import { writeFileSync } from 'node:fs';

import { chromium } from 'playwright-core';

import { CHROMIUM_ARGS } from './run.mjs';
import { servePage } from './serve-page.mjs';
import { stats } from '../ort/bench-core.mjs';

const argv = process.argv.slice(2);
const opt = (name, def) => (argv.includes(`--${name}`) ? argv[argv.indexOf(`--${name}`) + 1] : def);
const runs = Number(opt('runs', 5));
const asJson = argv.includes('--json');
const log = asJson ? () => {} : (...a) => console.error(...a);


const served = await servePage('bench-frozen-dist', log);
const page0 = served.url;

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
const ctx = await browser.newContext();   // one profile: Cache Storage survives reloads
const page = await ctx.newPage();

/** Opens part 2 and returns ms to its first paint and to a loaded model (timed in the page). */
async function openPartTwo() {
	await page.goto(page0);
	await page.getByTestId('open-part-two').waitFor();
	return page.evaluate(() => new Promise((resolve) => {
		const t0 = performance.now();
		let paint = null;
		const poll = () => {
			const part = document.querySelector('[data-testid=part-two]');
			if (part && paint === null) paint = performance.now() - t0;
			const src = document.querySelector('[data-testid=weights-source]')?.dataset.source;
			if (src && src !== 'random') resolve({ paint, ready: performance.now() - t0, source: src });
			else requestAnimationFrame(poll);
		};
		document.querySelector('[data-testid=open-part-two]').click();
		requestAnimationFrame(poll);
	}));
}

const rows = [];
const add = (what, values, unit, note = '') => {
	const s = stats(values, unit === 'ratio' ? 6 : 3);
	rows.push({ what, unit, median: s.median_ms, min: s.min_ms, max: s.max_ms, n: values.length, note });
};
try {
	const cold = await openPartTwo();
	if (cold.source !== 'network') throw new Error(`the first visit loaded from ${cold.source}, not the network`);
	add('cold load (download + load)', [cold.ready], 'ms', '46 MB from a local server');
	const paint = [];
	const ready = [];
	const forward = [];
	const frozenBw = [];
	const fullBw = [];
	const ratio = [];
	for (let i = 0; i < runs; i++) {
		const t = await openPartTwo();
		if (t.source !== 'cache') throw new Error(`visit ${i + 2} loaded from ${t.source}, not the cache`);
		paint.push(t.paint);
		ready.push(t.ready);
		const time = page.getByTestId('classify-time');
		await time.waitFor({ timeout: 60_000 });
		forward.push(Number(await time.getAttribute('data-forward-ms')));
		await page.getByTestId('run-grads').click();
		const cost = page.getByTestId('grad-cost');
		await cost.waitFor({ timeout: 60_000 });
		const f = Number(await cost.getAttribute('data-backward-ms'));
		const e = Number(await cost.getAttribute('data-everything-backward-ms'));
		frozenBw.push(f);
		fullBw.push(e);
		ratio.push(f / e);
		log(`visit ${i + 2}: paint ${t.paint.toFixed(0)} ms, ready ${t.ready.toFixed(0)} ms, forward ${forward.at(-1).toFixed(1)} ms, backward ${f.toFixed(1)} / ${e.toFixed(1)} ms`);
	}
	add('first paint of part 2 (model cached)', paint, 'ms', 'target ≤ 300');
	add('cached load to ready', ready, 'ms', 'Cache Storage, no request');
	add('forward, 1 image (ImageNet head)', forward, 'ms');
	add('backward, tutorial state (fc only)', frozenBw, 'ms');
	add('backward, everything trainable', fullBw, 'ms');
	add('frozen ÷ full backward', ratio, 'ratio', 'target ≤ 0.15');
	const info = await page.evaluate(() => document.querySelector('[data-testid=engine-badge]')?.textContent);
	for (const r of rows) Object.assign(r, { env: 'chromium', engine: info, date: new Date().toISOString() });
	if (opt('out')) writeFileSync(opt('out'), `${JSON.stringify(rows, null, 1)}\n`);
	if (asJson) console.log(JSON.stringify(rows));
	else {
		console.log(`part 2 in Chromium (${info}), ${runs} cached visits`);
		console.table(rows.map(({ what, median, min, max, unit, note }) => ({ what, median: +median.toPrecision(3), min: +min.toPrecision(3), max: +max.toPrecision(3), unit, note })));
	}
} finally {
	await browser.close();
	await served.close();
}
