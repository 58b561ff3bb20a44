// finetune-loop.test.mjs: js/finetune.mjs on the real engine (the simd build) and
// gen_finetune_data.py's random resnet18 and images:
//   - a run stopped after epoch k and resumed from its checkpoint ends with the same weights,
//     bit for bit, as the uninterrupted run (head-only SGD; layer4+fc Adam with BatchNorm in
//     train mode, whose checkpoint carries the running statistics)
//   - lr 1e6: 'diverged', the loss before it finite, the model finite and equal to the checkpoint
//     it restored
// (PyTorch's numbers for the same runs: tests/resnet/finetune-cli.test.mjs.)
//   node --test tests/resnet/finetune-loop.test.mjs
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { loadEngine } from '../../js/engine.mjs';
import { checkSettings } from '../../js/finetune-settings.mjs';
import { prepareModel, train } from '../../js/finetune.mjs';
import { decodeImageFile, listImageFolder } from '../../js/imagefolder-dir.mjs';
import { prepareImage } from '../../js/preprocess.mjs';
import { dataPath, ensureFinetuneData } from './finetune-fixtures.mjs';

let eng, weights, items;
before(async () => {
	ensureFinetuneData();
	eng = await loadEngine({ build: 'simd' });
	const { readFileSync } = await import('node:fs');
	weights = readFileSync(dataPath('resnet18.pth'));
	const { samples } = listImageFolder(dataPath('data'));
	items = [];
	for (const s of samples) {
		const img = await decodeImageFile(s.path);
		const x = prepareImage(eng, img.rgb, img.width, img.height, { channels: 3 });
		items.push({ label: s.label, name: s.name, featureKey: s.name, input: async () => x });
	}
}, { timeout: 300_000 });
after(() => eng?.dispose());

function model(settings) {
	const m = eng.model(1000, 0);
	m.load(weights);
	prepareModel(m, settings, 3);
	return m;
}

const pick = (list, every) => list.filter((_, i) => i % every === 0);

/** Runs to the end, or stops after epoch `stopAfter` and resumes in a fresh model. */
async function run(settings, trainItems, keys, stopAfter = 0) {
	const features = new Map();
	let m = model(settings);
	let r;
	if (stopAfter) {
		const ctl = new AbortController();
		let ck;
		const first = await train({ engine: eng, model: m, settings, numClasses: 3, train: trainItems, features, signal: ctl.signal,
			onEvent: (e) => { if (e.type === 'epoch' && e.epoch === stopAfter) { ck = e.checkpoint; ctl.abort(); } } });
		assert.equal(first.status, 'stopped');
		assert.equal(first.epoch, stopAfter);
		m.dispose();
		m = model(settings);
		r = await train({ engine: eng, model: m, settings, numClasses: 3, train: trainItems, features, resume: { epoch: stopAfter, checkpoint: ck, history: first.history } });
	} else {
		r = await train({ engine: eng, model: m, settings, numClasses: 3, train: trainItems, features });
	}
	assert.equal(r.status, 'done');
	const out = Object.fromEntries(keys.map((k) => [k, m.tensor(k)]));
	m.dispose();
	return { out, history: r.history };
}

describe('the loop on the engine', () => {
	test('head only, SGD with momentum: resume after epoch 2 of 4 = the whole run, bit for bit', async () => {
		const s = checkSettings({ epochs: 4, batchSize: 5, seed: 3 });
		const keys = ['fc.weight', 'fc.bias'];
		const whole = await run(s, items, keys);
		const resumed = await run(s, items, keys, 2);
		for (const k of keys) assert.deepEqual(resumed.out[k], whole.out[k], k);
		assert.deepEqual(resumed.history.map((h) => h.trainLoss), whole.history.map((h) => h.trainLoss));
		assert.ok(whole.history[3].trainLoss < whole.history[0].trainLoss);
	});

	test('layer4 + fc, Adam, BatchNorm in train mode: resume after epoch 1 of 2 = the whole run', { timeout: 600_000 }, async () => {
		const s = checkSettings({ epochs: 2, batchSize: 4, optimizer: 'adam', lr: 1e-3, unfreeze: 'layer4,fc', bnMode: 'train', seed: 1 });
		const few = pick(items, 3);   // 8 images, 2 steps an epoch
		const keys = ['fc.weight', 'layer4.1.conv2.weight', 'layer4.1.bn2.running_mean', 'bn1.running_var', 'layer1.0.bn1.running_mean'];
		const whole = await run(s, few, keys);
		const resumed = await run(s, few, keys, 1);
		for (const k of keys) assert.deepEqual(resumed.out[k], whole.out[k], k);
	});

	test('everything trains: the checkpoint is the whole state_dict; resume after epoch 1 of 2 = the whole run', { timeout: 600_000 }, async () => {
		const s = checkSettings({ epochs: 2, batchSize: 4, unfreeze: 'all', lr: 1e-3, seed: 4 });
		const few = pick(items, 6);   // 4 images, 1 step an epoch
		const keys = ['conv1.weight', 'layer2.0.bn1.weight', 'fc.bias'];
		const whole = await run(s, few, keys);
		const resumed = await run(s, few, keys, 1);
		for (const k of keys) assert.deepEqual(resumed.out[k], whole.out[k], k);
	});

	test('lr 1e6: diverged, the earlier losses finite, the checkpoint restored', { timeout: 600_000 }, async () => {
		const s = checkSettings({ epochs: 3, batchSize: 4, lr: 1e6, unfreeze: 'layer4,fc', seed: 2 });
		const m = model(s);
		const events = [];
		const r = await train({ engine: eng, model: m, settings: s, numClasses: 3, train: pick(items, 3), onEvent: (e) => events.push(e) });
		assert.equal(r.status, 'diverged');
		const d = events.at(-1);
		assert.equal(d.type, 'diverged');
		assert.match(r.message, /diverged/);
		for (const e of events.filter((x) => x.type === 'batch')) assert.ok(Number.isFinite(e.loss), 'losses before the divergence are finite');
		assert.ok(m.finite(), 'the model is finite again');
		// the model holds the checkpoint it restored: load it into a fresh model and compare
		const ref = model(s);
		ref.load(r.checkpoint.weights, { strict: false });
		for (const k of ['fc.weight', 'layer4.0.conv1.weight']) assert.deepEqual(m.tensor(k), ref.tensor(k), k);
		assert.equal(r.epoch, d.restoredEpoch);
		m.dispose(); ref.dispose();
	});
});
