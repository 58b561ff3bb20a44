// The studio's training section end to end, on the real engine with a seeded random ResNet-18
// made by python3-torch (the stand-in hub of frozen-fixtures.mjs): generated colour classes, a
// full fine-tune through the UI (curves grow, validation accuracy above a measured floor, the
// right class predicted on a new picture), pause/resume, stop, the divergence guard, a reload
// mid-training, the worker dying, and the exports loaded by PyTorch (strict) giving the page's
// logits. Guards training-section.jsx and web/src/engine/studio-session.js.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { unzipSync } from 'fflate';

import { test, expect } from './frozen-fixtures.mjs';
import { COLOURS, colourPng } from './studio/images.mjs';
import {
	PY, CHECK, BACKBONE, NAMES, ACCURACY_FLOOR,
	openStudio, fillClasses, setSetting, chooseUnfreeze, train, waitDone, predictColour,
} from './studio/train-helpers.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

// in order in one worker (each trains a ResNet-18: two at once would only slow both), independent
test.describe.configure({ mode: 'default' });
test.setTimeout(240_000);

test('full fine-tune: curves grow, accuracy above the floor, the right class predicted, exports load in PyTorch', async ({ page, frozen, baseURL }) => {
	// "Your images never leave this device": every request is a GET, and only for the page's own
	// files or the weights file (the fixture fails the test on any other origin)
	const sent = [];
	page.on('request', (r) => sent.push({ method: r.method(), url: r.url() }));
	await openStudio(page, frozen);
	await fillClasses(page);
	await setSetting(page, 'epochs', 3);
	await setSetting(page, 'batchSize', 8);
	await expect(page.getByTestId('cache-note')).toHaveAttribute('data-on', 'true');
	await train(page);
	// the chart's data grows epoch by epoch while the run goes on
	const points = page.getByTestId('curve-loss');
	await expect(points).toHaveAttribute('data-points', /^[1-3]$/, { timeout: 120_000 });
	await waitDone(page);
	await expect(points).toHaveAttribute('data-points', '3');
	await expect(page.getByTestId('curve-acc')).toHaveAttribute('data-points', '3');
	// and the loss batch by batch: 24 training images (30 less the 20 % held out) in batches of 8
	// make 9 batches; the worker sends ~10 batch events a second, always each epoch's last
	await expect(points).toHaveAttribute('data-batch-points', /^[3-9]$/);
	await expect(page.getByTestId('curve-acc')).toHaveAttribute('data-batch-points', '0');
	const acc = Number(await page.getByTestId('eval-accuracy').getAttribute('data-value'));
	expect(acc).toBeGreaterThanOrEqual(ACCURACY_FLOOR);
	await expect(page.getByTestId('cache-count')).toHaveText('features: 30 / 30');
	// the confusion matrix: rows true, columns predicted; a cell opens the images it counts
	const matrix = [];
	for (let i = 0; i < 3; i++) {
		matrix.push([]);
		for (let j = 0; j < 3; j++) matrix[i].push(Number(await page.getByTestId(`cell-${i}-${j}`).textContent()));
	}
	expect(matrix.map((row) => row.reduce((a, b) => a + b, 0)), 'two held-out images per class').toEqual([2, 2, 2]);
	expect(matrix[0][0] + matrix[1][1] + matrix[2][2]).toBe(Math.round(acc * 6));
	await page.getByTestId('cell-1-1').click();
	await expect(page.getByTestId('gallery')).toBeVisible();
	await expect(page.getByTestId('gallery-image')).toHaveCount(matrix[1][1]);
	await expect(page.getByTestId('gallery')).toContainText('green-');
	await page.keyboard.press('Escape');
	await expect(page.getByTestId('gallery')).toBeHidden();
	await expect(page.getByTestId('per-class')).toContainText('green');
	for (const [i, colour] of NAMES.entries()) {
		const p = await predictColour(page, colour, 500 + i);
		expect(p.top, `a new ${colour} picture`).toBe(i);
		expect(p.logits).toHaveLength(3);
	}
	// a paste on the focused drop zone is classified, not added to a class
	await page.getByTestId('predict-drop').focus();
	await page.evaluate(async (bytes) => {
		const dt = new DataTransfer();
		dt.items.add(new File([new Uint8Array(bytes)], 'pasted-blue.png', { type: 'image/png' }));
		document.querySelector('[data-testid=predict-drop]').dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
	}, [...await colourPng(COLOURS.blue, 31337)]);
	await expect(page.getByTestId('predict-result').locator('.file-name')).toHaveText('pasted-blue.png');
	await expect(page.getByTestId('predict-result')).toHaveAttribute('data-top', '2');
	await expect(page.getByTestId('class-summary')).toContainText('30 images');
	const page0 = new URL(baseURL).origin;
	const weightsFile = (u) => /\.(safetensors|pth)$/.test(new URL(u).pathname);
	const away = sent.filter((r) => r.method !== 'GET'
		|| !(r.url.startsWith(page0) || r.url.startsWith('data:') || r.url.startsWith('blob:') || weightsFile(r.url)));
	expect(away, 'requests that are not GETs of the page or of the weights').toEqual([]);
	// evaluated again on demand, on the images as they are now: 5 more red ones, 7 held out
	const more = [];
	for (let i = 0; i < 5; i++) more.push({ name: `red-more-${i}.png`, type: 'image/png', bytes: [...await colourPng(COLOURS.red, 4000 + i)] });
	await page.evaluate((l) => window.gradboxStudio.addFiles('red', l), more);
	await page.getByTestId('evaluate').click();
	await expect(page.getByTestId('evaluation')).toContainText(/of 7 right/, { timeout: 60_000 });
	// exports: head and whole model, both formats, loaded strictly by PyTorch, same logits
	const { file, logits } = await predictColour(page, 'green', 777);
	const dir = mkdtempSync(join(tmpdir(), 'gb-export-'));
	const saved = {};
	for (const [what, format] of [['head', 'safetensors'], ['head', 'pth'], ['model', 'safetensors'], ['model', 'pth']]) {
		const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId(`export-${what}-${format}`).click()]);
		expect(download.suggestedFilename()).toMatch(new RegExp(`-${what}\\.${format}$`));
		saved[`${what}.${format}`] = join(dir, `${what}.${format}`);
		await download.saveAs(saved[`${what}.${format}`]);
	}
	for (const format of ['safetensors', 'pth']) {
		const out = JSON.parse(execFileSync(PY, [CHECK, '--backbone', BACKBONE(), '--image', file, '--logits', JSON.stringify(logits),
			'--head', saved[`head.${format}`], '--model', saved[`model.${format}`]], { encoding: 'utf8' }));
		expect(out.ok, JSON.stringify(out)).toBe(true);
		expect(out.checks.map((c) => c.what)).toEqual(['head', 'model']);
	}
});

test('pause holds the run between batches, resume and stop finish it', async ({ page, frozen }) => {
	await openStudio(page, frozen);
	await fillClasses(page, { perClass: 8 });
	await chooseUnfreeze(page, 'layer4,fc');   // no cache: each batch is a real step, slow enough to catch
	await expect(page.getByTestId('cache-note')).toHaveAttribute('data-on', 'false');
	await expect(page.getByTestId('cache-note')).toContainText('layer4 trains');
	await setSetting(page, 'epochs', 4);
	await setSetting(page, 'batchSize', 4);
	await train(page);
	await expect(page.getByTestId('run-progress')).toHaveAttribute('data-status', 'running', { timeout: 60_000 });
	await page.getByTestId('pause').click();
	await expect(page.getByTestId('run-progress')).toHaveAttribute('data-status', 'paused');
	const at = await page.getByTestId('run-progress').getByRole('status').textContent();
	await page.waitForTimeout(2500);
	// paused: the same batch after 2.5 s (one batch in flight may land, then nothing moves)
	const later = await page.getByTestId('run-progress').getByRole('status').textContent();
	await page.waitForTimeout(2500);
	expect(await page.getByTestId('run-progress').getByRole('status').textContent()).toBe(later);
	expect(at).toContain('paused');
	await page.getByTestId('resume').click();
	await expect(page.getByTestId('run-progress')).toHaveAttribute('data-status', 'running');
	await expect(page.getByTestId('curve-loss')).toHaveAttribute('data-points', '1', { timeout: 120_000 });
	await page.getByTestId('stop').click();
	await waitDone(page, 'stopped', 60_000);
	await expect(page.getByTestId('last-run')).toContainText('stopped');
	expect(Number(await page.getByTestId('curve-loss').getAttribute('data-points'))).toBeLessThan(4);
	// the stopped run keeps its finished epochs' head: predictions work
	await expect(page.getByTestId('predict')).toBeVisible();
	const p = await predictColour(page, 'red');
	expect(p.logits.every(Number.isFinite)).toBe(true);
	// a second run: the first stays on the chart, behind it
	await chooseUnfreeze(page, 'fc');
	await setSetting(page, 'epochs', 1);
	await train(page);
	await waitDone(page);
	await expect(page.getByTestId('curve-loss')).toHaveAttribute('data-runs', '2');
	await expect(page.getByTestId('curve-loss')).toHaveAttribute('data-points', '1');
	await expect(page.getByTestId('curve-loss').locator('.u-legend')).toContainText('run 1 train');
});

test('divergence guard: lr 1e6 stops with what happened and what to try, the weights restored', async ({ page, frozen }) => {
	await openStudio(page, frozen);
	await fillClasses(page, { perClass: 6 });
	// fc alone stays finite at lr 1e6 (cross-entropy's gradient is bounded: the weights only grow
	// linearly); with layer4 training too, each step multiplies the activations until they overflow
	await chooseUnfreeze(page, 'layer4,fc');
	await setSetting(page, 'lr', 1e6);
	await setSetting(page, 'epochs', 3);
	await setSetting(page, 'batchSize', 4);
	await train(page);
	await waitDone(page, 'diverged', 120_000);
	const message = page.getByTestId('diverged-message');
	await expect(message).toContainText(/became (NaN|inf|-inf|Infinity)/);
	await expect(message).toContainText('smaller learning rate');
	const p = await predictColour(page, 'blue');
	expect(p.logits.every(Number.isFinite), JSON.stringify(p.logits)).toBe(true);
	// the evaluation of the restored head lists its wrong answers, most confident first
	const text = await page.getByTestId('evaluation').textContent();
	const [, correct, total] = text.match(/\((\d+) of (\d+) right\)/).map(Number);
	console.log(`divergence: the restored head gets ${correct} of ${total} held-out images right`);
	const wrong = page.getByTestId('confident-wrong').locator('li');
	await expect(wrong).toHaveCount(Math.min(8, total - correct));
	if (total > correct) {
		await expect(wrong.first().locator('img')).toHaveAttribute('src', /^blob:/);
		const ps = (await wrong.allTextContents()).map((t) => Number(t.match(/\(([\d.]+) %\)/)[1]));
		expect([...ps].sort((a, b) => b - a)).toEqual(ps);
	}
});

test('an invalid setting is shown next to its field and training does not start', async ({ page, frozen }) => {
	await openStudio(page, frozen);
	const input = page.getByTestId('set-lr');
	await input.fill('-1');
	await input.press('Tab');
	await expect(page.getByTestId('set-lr-note')).toContainText('lr: must be a number from 0 to 1000000');
	await expect(page.getByTestId('train')).toBeDisabled();
	await input.fill('0.01');
	await input.press('Tab');
	await expect(page.getByTestId('train')).toBeEnabled();
});

test('reload mid-training: the run shows its finished epochs, resumes, predictions use its checkpoint', async ({ page, frozen }) => {
	await openStudio(page, frozen);
	await fillClasses(page, { perClass: 6 });
	await chooseUnfreeze(page, 'layer4,fc');
	await setSetting(page, 'epochs', 4);
	await setSetting(page, 'batchSize', 4);
	await train(page);
	await expect(page.getByTestId('curve-loss')).toHaveAttribute('data-points', /^[12]$/, { timeout: 120_000 });
	await page.reload();
	await frozen.openPartTwo();
	await page.evaluate(() => document.getElementById('h-studio')?.scrollIntoView());
	await expect(page.getByTestId('last-run')).toHaveAttribute('data-status', 'interrupted', { timeout: 60_000 });
	const finished = Number(await page.getByTestId('curve-loss').getAttribute('data-points'));
	expect(finished).toBeGreaterThanOrEqual(1);
	await expect(page.getByTestId('predict')).toBeVisible({ timeout: 60_000 });   // the checkpoint is loaded
	const p = await predictColour(page, 'green');
	expect(p.logits.every(Number.isFinite)).toBe(true);
	await page.getByTestId('run-resume-interrupted').click();
	await waitDone(page, 'done', 180_000);
	await expect(page.getByTestId('curve-loss')).toHaveAttribute('data-points', '4');
	await expect(page.getByTestId('curve-loss')).toHaveAttribute('data-runs', '1');   // the same run, continued
});

test('two tabs: one trains, the other neither trains nor takes its run for interrupted', async ({ page, frozen }) => {
	await openStudio(page, frozen);
	await fillClasses(page, { perClass: 6 });
	await chooseUnfreeze(page, 'layer4,fc');   // real steps: a run long enough to open a second tab
	await setSetting(page, 'epochs', 4);
	await setSetting(page, 'batchSize', 4);
	await train(page);
	await expect(page.getByTestId('curve-loss')).toHaveAttribute('data-points', '1', { timeout: 120_000 });
	const other = await page.context().newPage();
	await other.goto(page.url());
	await other.evaluate(() => document.getElementById('h-studio')?.scrollIntoView());
	await expect(other.getByTestId('studio')).toHaveAttribute('data-ready', 'yes', { timeout: 30_000 });
	await expect(other.getByTestId('training-elsewhere')).toBeVisible({ timeout: 30_000 });
	await expect(other.getByTestId('run-resume-interrupted')).toHaveCount(0);
	await other.getByTestId('train').click();
	await expect(other.getByTestId('train-problem')).toContainText('training in another tab');
	// the first tab's run goes on and ends as it would alone; the other tab then shows it
	await expect(page.getByTestId('run-progress')).toHaveAttribute('data-status', 'running');
	await page.getByTestId('stop').click();
	await waitDone(page, 'stopped', 120_000);
	await expect(other.getByTestId('last-run')).toHaveAttribute('data-status', 'stopped', { timeout: 30_000 });
	await other.close();
});

test('a worker that dies is restarted, the weights and the last head reloaded, with a message', async ({ page, frozen }) => {
	frozen.expectConsole(/test: the engine worker crashed/);
	await openStudio(page, frozen);
	await fillClasses(page, { perClass: 4 });
	await setSetting(page, 'epochs', 2);
	await train(page);
	await waitDone(page);
	await expect(page.getByTestId('predict')).toBeVisible();
	let worker = null;
	// the engine workers (part 1's and the full one), not the pthreads (blocked in Atomics.wait)
	for (const w of page.workers().filter((x) => x.url().includes('engine-worker'))) {
		if (await w.evaluate(() => self.engineModule).catch(() => null) === 'full') worker = w;
	}
	expect(worker, 'the full engine worker').toBeTruthy();
	await worker.evaluate(() => setTimeout(() => { throw new Error('test: the engine worker crashed'); }, 0));
	await expect(page.getByTestId('engine-restart')).toHaveAttribute('data-state', 'restarted', { timeout: 60_000 });
	await expect(page.getByTestId('engine-restart')).toContainText('Nothing you saved was lost');
	await expect(page.getByTestId('predict')).toBeVisible({ timeout: 60_000 });
	const p = await predictColour(page, 'red', 4242);
	expect(p.logits.every(Number.isFinite)).toBe(true);
	await expect(page.getByTestId('class-summary')).toContainText('12 images');
});

// SGD with the defaults; and Adam with weight decay on whole images (Resize((224, 224)), no crop)
const SCRIPT_CASES = [
	['SGD, the defaults', {}],
	['Adam, weight decay, whole images', { optimizer: 'adam', lr: 1e-3, weightDecay: 1e-4, keepWhole: true }],
];
for (const [name, settings] of SCRIPT_CASES) test(`finetune.py run by PyTorch on the exported dataset gives the page's head: ${name}`, async ({ page, frozen }) => {
	await openStudio(page, frozen);
	await fillClasses(page, { perClass: 6 });
	await setSetting(page, 'epochs', 2);
	await setSetting(page, 'batchSize', 4);
	if (settings.optimizer) await page.getByTestId('set-optimizer').locator(`input[value="${settings.optimizer}"]`).check();
	if (settings.keepWhole) await page.getByTestId('set-keepWhole').check();
	for (const field of ['lr', 'weightDecay']) if (settings[field] != null) await setSetting(page, field, settings[field]);
	await expect(page.getByTestId('optimizer-code')).toContainText(settings.optimizer === 'adam' ? 'optim.Adam(' : 'optim.SGD(');
	await train(page);
	await waitDone(page);
	const dir = mkdtempSync(join(tmpdir(), 'gb-script-'));
	const [zipDl] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-dataset').click()]);
	const [headDl] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-head-pth').click()]);
	const [scriptDl] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-script').click()]);
	expect(scriptDl.suggestedFilename()).toBe('finetune.py');
	await scriptDl.saveAs(join(dir, 'finetune.py'));
	const zipPath = join(dir, 'data.zip');
	await zipDl.saveAs(zipPath);
	await headDl.saveAs(join(dir, 'page-head.pth'));
	const files = unzipSync(new Uint8Array(readFileSync(zipPath)));
	const data = join(dir, 'data');
	for (const [name, bytes] of Object.entries(files)) {
		const path = join(data, name);
		mkdirSync(join(path, '..'), { recursive: true });
		writeFileSync(path, bytes);
	}
	expect(readFileSync(join(dir, 'finetune.py'), 'utf8'), 'the script alone is the one in the zip').toBe(readFileSync(join(data, 'finetune.py'), 'utf8'));
	execFileSync(PY, [join(data, 'finetune.py'), '--data', data, '--weights', BACKBONE(), '--out', dir], { encoding: 'utf8', timeout: 200_000 });
	const diff = execFileSync(PY, ['-c', `
import torch, json
a = torch.load(${JSON.stringify(join(dir, 'finetuned_head.pth'))}, weights_only=True)
b = torch.load(${JSON.stringify(join(dir, 'page-head.pth'))}, weights_only=True)
assert sorted(a) == sorted(b) == ['fc.bias', 'fc.weight'], (sorted(a), sorted(b))
print(json.dumps({k: float((a[k] - b[k]).abs().max()) for k in a}))
`], { encoding: 'utf8' });
	const d = JSON.parse(diff);
	console.log(`finetune.py (${name}) against the page's head: max |Δ| ${JSON.stringify(d)}`);
	expect(d['fc.weight']).toBeLessThan(1e-4);
	expect(d['fc.bias']).toBeLessThan(1e-4);
	// `gradbox finetune` on the same data and settings: the same loop and engine, so the same bits
	const flags = ['--epochs', '2', '--batch-size', '4'];
	if (settings.optimizer) flags.push('--optimizer', settings.optimizer);
	if (settings.lr != null) flags.push('--lr', String(settings.lr));
	if (settings.weightDecay != null) flags.push('--weight-decay', String(settings.weightDecay));
	if (settings.keepWhole) flags.push('--keep-whole');
	execFileSync(process.execPath, [join(ROOT, 'bin', 'gradbox.mjs'), 'finetune', '--data', data, '--weights', BACKBONE(), ...flags,
		'--build', 'simd', '--out', join(dir, 'cli-head.pth')], { encoding: 'utf8', timeout: 200_000, stdio: ['ignore', 'pipe', 'pipe'] });
	const same = execFileSync(PY, ['-c', `
import torch
a = torch.load(${JSON.stringify(join(dir, 'cli-head.pth'))}, weights_only=True)
b = torch.load(${JSON.stringify(join(dir, 'page-head.pth'))}, weights_only=True)
print(all(torch.equal(a[k], b[k]) for k in ('fc.weight', 'fc.bias')))
`], { encoding: 'utf8' }).trim();
	expect(same, 'gradbox finetune gives the page\'s head, bit for bit').toBe('True');
	if (!settings.keepWhole) return;
	// the page predicts with the whole image too: PyTorch's Resize((224, 224)) gives its logits
	const { file, logits } = await predictColour(page, 'red', 2024);
	const out = JSON.parse(execFileSync(PY, [CHECK, '--backbone', BACKBONE(), '--image', file, '--logits', JSON.stringify(logits),
		'--head', join(dir, 'page-head.pth'), '--keep-whole'], { encoding: 'utf8' }));
	expect(out.ok, JSON.stringify(out)).toBe(true);
});

test('no camera: the webcam toggle says why and stays off', async ({ page, frozen }) => {
	await openStudio(page, frozen);
	await fillClasses(page, { perClass: 3 });
	await setSetting(page, 'epochs', 1);
	await train(page);
	await waitDone(page);
	// click, not check(): the toggle turns itself off again as soon as the camera fails, which
	// can be before check() looks at it
	await page.getByTestId('webcam-toggle').click();
	await expect(page.getByTestId('webcam-problem')).toContainText(/No camera was found|permission was denied|could not start|offers no camera/);
	await expect(page.getByTestId('webcam')).toHaveAttribute('data-on', 'false');
});

test('375 px wide: the trained section (settings, curves, matrix, bars) fits without horizontal scroll', async ({ page, frozen }) => {
	await page.setViewportSize({ width: 375, height: 800 });
	await openStudio(page, frozen);
	await fillClasses(page, { perClass: 4 });
	await setSetting(page, 'epochs', 2);
	await train(page);
	await waitDone(page);
	await predictColour(page, 'green');
	await expect(page.getByTestId('curve-acc')).toBeVisible();
	await expect(page.getByTestId('confusion')).toBeVisible();
	expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
});
