// Part 2, frozen parameters, against PyTorch's own printouts and numbers
// (tests/e2e/frozen/gen_frozen_page_fixtures.py) with the weights downloaded
// from the stand-in hub, which redirects to a storage origin as the real one does.
import { test, expect, CDN, hubUrl, hubRequests, tokenOf, manifest, fixtureText, fixtureJson, fixturePath } from './frozen-fixtures.mjs';
import { expectText } from './fixtures.mjs';

// Each test loads a 46 MB model into a fresh page: more than the suite's default 30 s on 2 cores.
test.describe.configure({ timeout: 120_000 });

const SEED0 = manifest.files['weights/resnet18_seed0.safetensors'];
const grads = fixtureJson('grads.json');
const states = fixtureJson('states.json');

/** Checks the weights facts against a fixture file's entry. */
async function expectWeights(page, entry, source) {
	await expect(page.getByTestId('weights-source')).toHaveAttribute('data-source', source);
	await expectText(page.getByTestId('weights-sha256'), entry.sha256);
	await expect(page.getByTestId('weights-size')).toContainText(`${entry.bytes.toLocaleString('en-US')} bytes`);
	await expect(page.getByTestId('weights-keys')).toContainText(`${entry.keys} keys`);
	await expectText(page.getByTestId('weights-report'), '<All keys matched successfully>');
}

/** The fixtures' input picture (lossless, so the browser decodes PIL's very pixels). */
async function chooseCatPng(page) {
	await page.getByTestId('sample-cat.png').click();
	await expect(page.getByTestId('sample-cat.png')).toHaveAttribute('aria-pressed', 'true');
}

/** The totals line for a states.json entry. */
function totals(state) {
	const pct = ((100 * state.trainable) / state.total).toFixed(2);
	return `trainable parameters: ${state.trainable.toLocaleString('en-US')} of ${state.total.toLocaleString('en-US')} (${pct} %)`;
}

test('weights from the hub: progress, facts, then Cache Storage on reload with no second request', async ({ page, frozen }) => {
	const url = hubUrl('model.safetensors', { modes: ['slow'], query: '?slow=4' });
	const repo = tokenOf(url);
	await page.goto(`/?weights=${encodeURIComponent(url)}`);
	await frozen.openPartTwo();
	await expect(page.getByTestId('weights-progress')).toContainText(/MB of 44\.6 MB/, { timeout: 30_000 });
	await expect(page.getByTestId('part-two')).toHaveAttribute('data-phase', 'ready', { timeout: 60_000 });
	await expectWeights(page, SEED0, 'network');
	const first = await hubRequests(repo);
	expect(first.filter((r) => r.origin === 'hub')).toHaveLength(1);
	expect(first.filter((r) => r.origin === 'cdn')).toHaveLength(1);
	await page.reload();
	await frozen.openPartTwo();
	await expect(page.getByTestId('part-two')).toHaveAttribute('data-phase', 'ready', { timeout: 60_000 });
	await expectWeights(page, SEED0, 'cache');
	expect(await hubRequests(repo)).toHaveLength(2);
	// forgetting the cached file: the next visit downloads it again
	await page.getByTestId('weights-forget').click();
	await expect(page.getByTestId('weights-facts')).toContainText('forgotten');
	await page.reload();
	await frozen.openPartTwo();
	await expect(page.getByTestId('weights-source')).toHaveAttribute('data-source', 'network', { timeout: 60_000 });
	expect(await hubRequests(repo)).toHaveLength(4);
});

test('cancelling the download, or a refused one, leaves random weights and a banner; the lesson still works', async ({ page, frozen }) => {
	await page.goto(`/?weights=${encodeURIComponent(hubUrl('model.safetensors', { modes: ['slow'], query: '?slow=200' }))}`);
	await frozen.openPartTwo();
	await expect(page.getByTestId('weights-progress')).toBeVisible({ timeout: 30_000 });
	await page.getByTestId('weights-cancel').click();
	await expect(page.getByTestId('weights-random-banner')).toContainText('the download was cancelled');
	await expect(page.getByTestId('trainable-totals')).toHaveText(totals(states.tutorial));
	// a server that does not allow this origin (no CORS header): the browser refuses the body
	frozen.expectConsole(/Access-Control-Allow-Origin|Failed to load resource|CORS/);
	await page.getByTestId('weights-url').fill(hubUrl('model.safetensors', { modes: ['nocors'] }));
	await page.getByTestId('weights-download').click();
	await expect(page.getByTestId('weights-random-banner')).toContainText('could not download the weights');
	await expect(page.getByTestId('out-fc')).toHaveText(fixtureText('fc.txt').trimEnd());
});

test('the printouts are PyTorch’s: children, dir(model), model.fc', async ({ page, frozen }) => {
	await frozen.open(hubUrl());
	const children = page.getByTestId('out-children');
	await expect(children).toHaveAttribute('data-full', 'false');
	await page.getByTestId('out-children-toggle').click();
	await expect(children).toHaveAttribute('data-full', 'true');
	await expectText(children, fixtureText('children.txt').replace(/\n$/, ''));
	await page.getByTestId('out-dir-toggle').click();
	const dir = fixtureJson('dir.json').after_fc;
	await expectText(page.getByTestId('out-dir'), `[${dir.map((n) => `'${n}'`).join(',\n ')}]`);
	await expectText(page.getByTestId('out-fc'), fixtureText('fc.txt').trimEnd());
});

test('trainable totals for four freeze states, and the code that makes them', async ({ page, frozen }) => {
	await frozen.open(hubUrl());
	const t = page.getByTestId('trainable-totals');
	await expect(t).toHaveText(totals(states.tutorial));
	await expect(t).toHaveText('trainable parameters: 5,130 of 11,181,642 (0.05 %)');
	await page.getByTestId('preset-layer4').click();
	await expect(t).toHaveText(totals(states.layer4_fc));
	await expect(page.getByTestId('freeze-code')).toContainText('for p in model.layer4.parameters():');
	await page.getByTestId('preset-all').click();
	await expect(t).toHaveText(totals(states.all));
	await page.getByTestId('preset-tutorial').click();
	await expect(t).toHaveText(totals(states.tutorial));
	// layer2.0.bn1 + fc, from the tree: search, then its checkbox
	await page.getByTestId('tree-search').fill('layer2.0.bn1');
	await page.getByTestId('row-layer2.0.bn1').locator('input[type=checkbox]').click();
	await expect(t).toHaveText(totals(states['layer2.0.bn1_fc']));
	await expect(page.getByTestId('freeze-code')).toContainText('for p in model.layer2[0].bn1.parameters():');
	await expect(page.getByTestId('row-layer2.0')).toHaveAttribute('aria-checked', 'mixed');
	await page.getByTestId('out-requires-grad-toggle').click();
	const printed = await page.getByTestId('out-requires-grad').textContent();
	expect(printed.split('\n').filter((l) => l.endsWith(' True')).map((l) => l.split(' ')[0]))
		.toEqual(states['layer2.0.bn1_fc'].requires_grad);
});

for (const [id, preset] of [['tutorial', 'preset-tutorial'], ['layer4_fc', 'preset-layer4'], ['all', 'preset-all']]) {
	test(`who gets a gradient, ${id}: the same .grad set and norms as torch`, async ({ page, frozen }) => {
		await frozen.open(hubUrl());
		await chooseCatPng(page);
		await page.getByTestId(preset).click();
		await expect(page.getByTestId('trainable-totals')).toHaveText(totals(states[id]));
		await page.getByTestId('input-grad-target').fill(String(grads.target));
		await page.getByTestId('run-grads').click();
		const result = page.getByTestId('grad-result');
		await expect(result).toHaveAttribute('data-current', 'true', { timeout: 60_000 });
		const want = grads.states[id];
		expect(Math.abs(Number(await result.getAttribute('data-loss')) - want.loss)).toBeLessThan(1e-4 * Math.max(1, Math.abs(want.loss)));
		const got = JSON.parse(await result.getAttribute('data-norms'));
		expect(Object.keys(got)).toEqual(Object.keys(want.grad_norm));
		for (const [name, norm] of Object.entries(want.grad_norm)) {
			if (norm === null) expect(got[name], name).toBeNull();
			else expect(Math.abs(got[name] - norm), name).toBeLessThanOrEqual(1e-3 * norm + 1e-7);
		}
		const cost = page.getByTestId('grad-cost');
		const frozenMs = Number(await cost.getAttribute('data-backward-ms'));
		const fullMs = Number(await cost.getAttribute('data-everything-backward-ms'));
		// times are shown, not compared: two runs of the same work ('all') can come in either
		// order, and a page that is not cross-origin isolated reads a 20-µs backward as 0.
		// What freezing saves is checked by the backward nodes, which are exact.
		expect(frozenMs).toBeGreaterThanOrEqual(0);
		expect(fullMs).toBeGreaterThan(0);
		const nodes = Number(await cost.getAttribute('data-backward-nodes'));
		const allNodes = Number(await cost.getAttribute('data-everything-backward-nodes'));
		if (id === 'all') expect(nodes).toBe(allNodes);
		else expect(nodes).toBeLessThan(allNodes);
		if (id === 'tutorial') expect(nodes).toBe(3);   // AddmmBackward0, LogSoftmaxBackward0, NllLossBackward0
		if (id === 'layer4_fc') {
			// the tree marks where backward stopped and dims what came before it, not what contains it
			await expect(page.getByTestId('grad-stop')).toHaveText('layer4.0.conv1');
			await expect(page.getByTestId('row-layer3')).toHaveClass(/is-not-entered/);
			await expect(page.getByTestId('row-layer4')).not.toHaveClass(/is-not-entered/);
			await page.getByTestId('tree-search').fill('layer4.0.conv1');
			await expect(page.getByTestId('row-layer4.0.conv1')).toHaveClass(/is-stop/);
			await expect(page.getByTestId('row-layer4.0')).not.toHaveClass(/is-not-entered/);
			await expect(page.getByTestId('row-(model)')).not.toHaveClass(/is-not-entered/);
			await expect(page.getByTestId('grad-layer4.0.conv1.weight')).toContainText('.grad ‖·‖');
		}
	});
}

test('the BatchNorm trap: bn1’s running statistics move in a train-mode forward, not in an eval-mode one, as in torch', async ({ page, frozen }) => {
	await frozen.open(hubUrl());
	await chooseCatPng(page);
	await page.getByTestId('run-bn').click();
	const r = JSON.parse(await page.getByTestId('bn-result').getAttribute('data-json'));
	const bn = fixtureJson('bn.json');
	const close = (a, b) => a.every((v, i) => Math.abs(v - b[i]) <= 1e-5 + 1e-4 * Math.abs(b[i]));
	expect(close(r.before.running_mean, bn.before.running_mean)).toBe(true);
	expect(close(r.afterTrain.running_mean, bn.after_train_forward.running_mean)).toBe(true);
	expect(close(r.afterTrain.running_var, bn.after_train_forward.running_var)).toBe(true);
	expect(close(r.afterEval.running_mean, bn.after_eval_forward.running_mean)).toBe(true);
	expect(r.afterTrain.running_mean).not.toEqual(r.before.running_mean);
	expect(r.afterEval).toEqual(r.afterTrain);   // the eval forward changed nothing
	await expect(page.getByTestId('bn-eval-change')).toHaveText('0.00');
});

test('top-5 of the ImageNet head on a PNG sample match torch within 1e-4', async ({ page, frozen }) => {
	await frozen.open(hubUrl());
	await chooseCatPng(page);
	const want = fixtureJson('top5.json').samples['cat.png'].top5 ?? fixtureJson('top5.json').samples['cat.png'];
	await expect(page.getByTestId('top5')).toHaveAttribute('data-sample', 'cat.png', { timeout: 30_000 });
	await expect(page.getByTestId('top5')).toHaveAttribute('data-weights', SEED0.sha256);
	const items = page.getByTestId('top5').locator('li');
	await expect(items).toHaveCount(5, { timeout: 30_000 });
	for (let i = 0; i < 5; i++) {
		await expect(items.nth(i)).toHaveAttribute('data-index', String(want[i].index));
		const p = Number(await items.nth(i).getByTestId('top5-p').getAttribute('data-p'));
		expect(Math.abs(p - want[i].prob)).toBeLessThanOrEqual(1e-4);
	}
});

test('weights from a picked .pth and .safetensors; five broken files are refused and the model stays', async ({ page, frozen }) => {
	await frozen.open(hubUrl());
	const file = page.getByTestId('weights-file');
	await file.setInputFiles(fixturePath('weights/resnet18_seed1.safetensors'));
	await expectWeights(page, manifest.files['weights/resnet18_seed1.safetensors'], 'file');
	await file.setInputFiles(fixturePath('weights/resnet18_seed0.pth'));
	const pth = manifest.files['weights/resnet18_seed0.pth'];
	await expectWeights(page, { ...pth, keys: 122 }, 'file');
	for (const bad of ['broken/png_renamed.pth', 'broken/truncated.safetensors', 'broken/resnet34.pth', 'broken/forbidden_global.pth', 'broken/empty.safetensors']) {
		await file.setInputFiles(fixturePath(bad));
		const problem = page.getByTestId('weights-problem');
		await expect(problem).toContainText(`${bad.split('/')[1]} was not loaded; the model that was loaded is still in place.`);
		await expectText(page.getByTestId('weights-sha256'), pth.sha256);
	}
	await file.setInputFiles(fixturePath('broken/resnet34.pth'));
	await expect(page.getByTestId('weights-problem')).toContainText('Unexpected key(s) in state_dict: "layer1.2.conv1.weight"');
	await file.setInputFiles(fixturePath('broken/forbidden_global.pth'));
	await expect(page.getByTestId('weights-problem')).toContainText('os.system');
});

test('the layer tree works from the keyboard alone', async ({ page, frozen }) => {
	await frozen.open(hubUrl());
	await page.getByTestId('tree-search').focus();
	await page.keyboard.press('Tab');
	const root = page.getByTestId('row-(model)');
	await expect(root).toBeFocused();
	await expect(root).toHaveAttribute('aria-expanded', 'true');
	// down to layer4 (conv1, bn1, relu, maxpool, layer1..layer4), open it, toggle it with Space
	for (let i = 0; i < 8; i++) await page.keyboard.press('ArrowDown');
	const layer4 = page.getByTestId('row-layer4');
	await expect(layer4).toBeFocused();
	await page.keyboard.press('ArrowRight');
	await expect(layer4).toHaveAttribute('aria-expanded', 'true');
	await page.keyboard.press(' ');
	await expect(page.getByTestId('trainable-totals')).toHaveText(totals(states.layer4_fc));
	await expect(layer4).toHaveAttribute('aria-checked', 'true');
	await page.keyboard.press('ArrowRight');
	await expect(page.getByTestId('row-layer4.0')).toBeFocused();
	await page.keyboard.press('ArrowLeft');
	await expect(layer4).toBeFocused();
	await page.keyboard.press('ArrowLeft');
	await expect(layer4).toHaveAttribute('aria-expanded', 'false');
	await page.keyboard.press('End');
	await expect(page.getByTestId('row-fc')).toBeFocused();
});

test('375 px wide: part 2 has no horizontal scroll', async ({ page, frozen }) => {
	await page.setViewportSize({ width: 375, height: 800 });
	await frozen.open(hubUrl());
	await page.getByTestId('layer-tree').scrollIntoViewIfNeeded();
	const widths = await page.evaluate(() => [document.documentElement.scrollWidth, innerWidth]);
	expect(widths[0]).toBeLessThanOrEqual(widths[1]);
});

test('model.fc = nn.Linear(512, N) with N and the seed edited: the printout, the totals and the tree follow', async ({ page, frozen }) => {
	await frozen.open(hubUrl());
	await page.getByTestId('input-head-n').fill('5');
	await expectText(page.getByTestId('out-fc'), 'Linear(in_features=512, out_features=5, bias=True)');
	await expect(page.getByTestId('trainable-totals')).toHaveText('trainable parameters: 2,565 of 11,179,077 (0.02 %)');
	await expect(page.getByTestId('row-fc')).toContainText('[1, 5]');
	await page.getByTestId('input-head-n').fill('0');
	await expect(page.getByTestId('input-head-n')).toHaveAttribute('aria-invalid', 'true');
	await expectText(page.getByTestId('out-fc'), 'Linear(in_features=512, out_features=5, bias=True)');
	await page.getByTestId('input-head-n').fill('10');
	await expect(page.getByTestId('trainable-totals')).toHaveText(totals(states.tutorial));
	// the seed changes the head's values, not its shape (the values are checked bit for bit in tests/resnet)
	await page.getByTestId('input-head-seed').fill('7');
	await expectText(page.getByTestId('out-fc'), fixtureText('fc.txt').trimEnd());
});

test('a weights file dropped on the page loads; a dropped picture is refused and the model stays', async ({ page, frozen }) => {
	await frozen.open(hubUrl());
	/** Drops the file the stand-in cdn serves at `path` on the drop zone, as a file dragged from the desktop. */
	const drop = (path, name) => page.evaluate(async ({ url, name }) => {
		const blob = await (await fetch(url)).blob();
		const data = new DataTransfer();
		data.items.add(new File([blob], name));
		const zone = document.querySelector('.dropzone');
		zone.dispatchEvent(new DragEvent('dragover', { dataTransfer: data, bubbles: true, cancelable: true }));
		zone.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
	}, { url: `${CDN}/${path}`, name });
	await drop('weights/resnet18_seed1.safetensors', 'resnet18_seed1.safetensors');
	await expectWeights(page, manifest.files['weights/resnet18_seed1.safetensors'], 'file');
	await drop('broken/png_renamed.pth', 'photo.pth');
	await expect(page.getByTestId('weights-problem')).toContainText('photo.pth was not loaded');
	await expect(page.getByTestId('weights-problem')).toContainText('this is a PNG image, not a weights file');
	await expectText(page.getByTestId('weights-sha256'), manifest.files['weights/resnet18_seed1.safetensors'].sha256);
});
