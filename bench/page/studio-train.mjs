// studio-train.mjs: part 3's training section in headless Chromium, on the e2e suite's seeded
// random ResNet-18 (python3-torch, served by tests/e2e/weights-server.mjs). A project of 10
// colour classes × 20 generated PNGs, then, timed in the page (a MutationObserver on the
// section's data-live state):
//   Train click, features not cached   click → run finished (defaults: 5 epochs, batch 16, fc)
//     of which the features phase       (÷ images: ms per image of feature extraction)
//     and the head epochs               (÷ epochs: ms per head epoch on the cached features)
//   Train click, features cached        the same run again: features come from IndexedDB
//   train step, batch 16                layer4 + fc, then everything, 1 epoch: the median time between
//                                       two batch events, and the running phase ÷ batches
//   webcam                              predictions per second with Chromium's fake camera
// Prints a table; --json prints the rows.   node bench/page/studio-train.mjs [--json]
// Targets (issue 17): Train click ≤ 8 s, features ≤ 30 ms/image, full step ≤ 1.5 s, webcam ≥ 20/s.

import { chromium } from 'playwright-core';

import { CHROMIUM_ARGS } from './run.mjs';
import { servePage } from './serve-page.mjs';
import { colourPng, hueColour } from '../../tests/e2e/studio/images.mjs';

const asJson = process.argv.includes('--json');
const log = asJson ? () => {} : (...a) => console.error(...a);
const CLASSES = 10, PER_CLASS = 20;


const served = await servePage('bench-studio-dist', log);
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium',
	args: [...CHROMIUM_ARGS, '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'] });
const page = await browser.newPage();

/**
 * Clicks Train and returns the times (ms since the click) at which data-live changed; `.batches`
 * holds the times at which the loss chart's data-batch-points grew (a batch event each).
 */
async function timedTrain() {
	const { phases, batches } = await page.evaluate(() => new Promise((resolve) => {
		const section = document.querySelector('[data-testid=training]');
		const t0 = performance.now();
		const phases = [], batches = [];
		const seen = new MutationObserver((records) => {
			const t = performance.now() - t0;
			for (const r of records) {
				if (r.attributeName !== 'data-batch-points') continue;
				const n = Number(r.target.dataset.batchPoints);
				if (n > (batches.at(-1)?.n ?? 0)) batches.push({ n, t });
			}
			const state = section.dataset.live;
			if (phases.at(-1)?.state !== state) phases.push({ state, t });
			if (state === 'idle') {
				seen.disconnect();
				resolve({ phases, batches });
			}
		});
		seen.observe(section, { attributes: true, attributeFilter: ['data-live', 'data-batch-points'], subtree: true });
		document.querySelector('[data-testid=train]').click();
	}));
	return Object.assign(phases, { batches });
}

/** The median time between two batch events one batch apart (a step with nothing else in it). */
function stepMs(batches) {
	const d = [];
	for (let i = 1; i < batches.length; i++) if (batches[i].n === batches[i - 1].n + 1) d.push(batches[i].t - batches[i - 1].t);
	d.sort((a, b) => a - b);
	return d.length ? d[d.length >> 1] : NaN;
}

const at = (phases, state) => phases.find((p) => p.state === state)?.t;
const setSetting = async (field, value) => {
	await page.getByTestId(`set-${field}`).fill(String(value));
	await page.getByTestId(`set-${field}`).press('Tab');
};

const rows = [];
const add = (what, value, unit, note = '') => rows.push({ what, value: +value.toPrecision(3), unit, note });
try {
	await page.goto(served.url);
	await page.evaluate(() => document.getElementById('h-studio')?.scrollIntoView());
	await page.getByTestId('training').waitFor({ timeout: 60_000 });
	await page.evaluate(async (n) => {
		const s = window.gradboxStudio;
		await s.ready();
		const have = s.classes();
		for (let i = 0; i < n; i++) {
			if (have[i]) await s.renameClass(have[i].id, `colour ${i}`);
			else await s.addClass(`colour ${i}`);
		}
	}, CLASSES);
	for (let k = 0; k < CLASSES; k++) {
		const files = [];
		for (let i = 0; i < PER_CLASS; i++) files.push({ name: `c${k}-${i}.png`, type: 'image/png', bytes: [...await colourPng(hueColour(k, CLASSES), k * 1000 + i)] });
		await page.evaluate(([label, list]) => window.gradboxStudio.addFiles(label, list), [`colour ${k}`, files]);
	}
	log(`${CLASSES * PER_CLASS} images added; training…`);
	await page.waitForFunction(() => document.querySelector('[data-testid=part-two]')?.dataset.phase === 'ready' || window.gradboxStudio, null, { timeout: 60_000 });
	const cold = await timedTrain();
	const total = cold.at(-1).t;
	const featuresMs = at(cold, 'running') - (at(cold, 'features') ?? at(cold, 'preparing'));
	const epochs = 5;
	add('Train click, 10 × 20 images, features computed', total, 'ms', 'target ≤ 8000');
	add('  feature extraction per image', featuresMs / (CLASSES * PER_CLASS), 'ms', 'target ≤ 30');
	add('  head epoch on the cached features', (total - at(cold, 'running')) / epochs, 'ms', 'includes validation and checkpoint');
	const warm = await timedTrain();
	add('Train click again, features from IndexedDB', warm.at(-1).t, 'ms');
	const acc = await page.getByTestId('eval-accuracy').getAttribute('data-value');
	log(`validation accuracy ${acc}; full fine-tune step…`);
	const batches = Math.ceil((CLASSES * PER_CLASS * 0.8) / 16);
	await setSetting('epochs', 1);
	for (const [unfreeze, what] of [['layer4,fc', 'layer4 + fc'], ['all', 'everything']]) {
		await page.getByTestId('set-unfreeze').locator(`input[value="${unfreeze}"]`).check();
		const run = await timedTrain();
		const problem = await page.getByTestId('train-problem').textContent({ timeout: 100 }).catch(() => null);
		if (problem) rows.push({ what: `train step, batch 16 (${what} trains)`, value: NaN, unit: 'ms', note: problem });
		else {
			add(`train step, batch 16 (${what} trains)`, stepMs(run.batches), 'ms', `target ≤ 1500; median of ${run.batches.length - 1} steps`);
			add('  with the epoch\'s validation, per step', (run.at(-1).t - at(run, 'running')) / batches, 'ms', `${batches} steps + validation`);
		}
	}
	await page.getByTestId('set-unfreeze').locator('input[value="fc"]').check();
	await timedTrain();   // a head for the webcam
	await page.getByTestId('webcam-toggle').check();
	await page.getByTestId('webcam-result').waitFor({ timeout: 60_000 });
	await page.waitForTimeout(6000);
	const said = await page.getByTestId('webcam-result').getByRole('status').textContent();   // "… N ms forward + M ms preprocessing …"
	const split = said.match(/(\d+) ms forward \+ (\d+) ms preprocessing/);
	add('webcam predictions per second', Number(await page.getByTestId('webcam-result').getAttribute('data-fps')), '1/s',
		`target ≥ 20${split ? `; a frame: ${split[1]} ms forward + ${split[2]} ms preprocessing` : ''}`);
	const info = await page.evaluate(() => document.querySelector('[data-testid=engine-badge]')?.textContent);
	if (asJson) console.log(JSON.stringify(rows.map((r) => ({ ...r, engine: info, date: new Date().toISOString() }))));
	else {
		console.log(`part 3 training in Chromium (${info}), ${new Date().toISOString()}`);
		console.table(rows);
	}
} finally {
	await browser.close();
	await served.close();
}
