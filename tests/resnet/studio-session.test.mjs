// studio-session.test.mjs: the studio's worker session (web/src/engine/studio-session.js) on the
// real engine (simd build) with gen_finetune_data.py's random resnet18 and 3 × 8 images. Only the
// browser's decoding is replaced (createImageBitmap is not in Node): images come in decoded by
// sharp, as js/imagefolder-dir.mjs reads them for the command line. Everything else is the
// worker's code: the run's events and features, pause/resume, stop, the checkpoint, restore after
// a reload, predictions and export.
//   node --test tests/resnet/studio-session.test.mjs
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, afterEach, before, test } from 'node:test';

import { loadEngine } from '../../js/engine.mjs';
import { checkSettings } from '../../js/finetune-settings.mjs';
import { decodeImageFile, listImageFolder } from '../../js/imagefolder-dir.mjs';
import { prepareImage } from '../../js/preprocess.mjs';
import { StudioSession } from '../../web/src/engine/studio-session.js';
import { dataPath, ensureFinetuneData } from './finetune-fixtures.mjs';

const CLASSES = ['red disc', 'green bar', 'blue frame'];
let eng, weights, all;

/** The worker's session with Node's decoding: `image` is { rgb, width, height } (3 channels). */
class NodeStudio extends StudioSession {
	async tensorOf(image, settings, opts = {}) {
		const tensor = prepareImage(this.eng, image.rgb, image.width, image.height, { channels: 3, keepWhole: !!settings.keepWhole, augment: false, ...opts });
		return { width: image.width, height: image.height, tensor };
	}
}

before(async () => {
	ensureFinetuneData();
	eng = await loadEngine({ build: 'simd' });
	weights = readFileSync(dataPath('resnet18.pth'));
	all = [];
	for (const s of listImageFolder(dataPath('data')).samples) {
		all.push({ blob: await decodeImageFile(s.path), label: s.label, key: `w/${s.name}/crop` });
	}
}, { timeout: 300_000 });
after(() => eng?.dispose());

const sessions = [];
/** A session (disposed after each test: the engine holds at most four models). */
const session = () => {
	const s = new NodeStudio(eng, { weights: { bytes: weights }, randomSeed: 0 });
	sessions.push(s);
	return s;
};
afterEach(() => { for (const s of sessions.splice(0)) s.dispose(); });
const split = () => ({ train: all.filter((_, i) => i % 4 !== 0), val: all.filter((_, i) => i % 4 === 0) });

/** Runs a train request as the worker does, collecting its progress messages. */
async function run(s, settings, { features = {}, onProgress = () => {}, signal = new AbortController().signal, resume = null } = {}) {
	const events = [];
	const result = await s.train({ settings, classes: CLASSES, ...split(), features, resume },
		{ signal, progress: (e) => { events.push(e); onProgress(e, events); } });
	return { result, events };
}

test('a cached run: features sent back once each, every epoch\'s last batch posted, evaluation on the held-out images', async () => {
	const s = session();
	const settings = checkSettings({ epochs: 3, batchSize: 4 });
	const { result, events } = await run(s, settings);
	assert.equal(result.status, 'done');
	const fresh = events.flatMap((e) => e.newFeatures ?? []);
	assert.deepEqual(fresh.map(([k]) => k).sort(), all.map((x) => x.key).sort(), 'each image\'s features, once');
	assert.ok(fresh.every(([, f]) => f instanceof Float32Array && f.length === 512));
	const epochs = events.filter((e) => e.type === 'epoch');
	assert.deepEqual(epochs.map((e) => e.epoch), [1, 2, 3]);
	for (const e of epochs) {
		assert.ok(events.some((b) => b.type === 'batch' && b.epoch === e.epoch && b.batch === b.batches), `epoch ${e.epoch}'s last batch`);
		assert.ok(e.checkpoint.weights instanceof Uint8Array && e.checkpoint.optimizer instanceof Uint8Array);
	}
	const { val } = split();
	assert.equal(result.evaluation.on, 'val');
	assert.equal(result.evaluation.predictions.length, val.length);
	assert.deepEqual(result.evaluation.predictions.map((p) => p.label), val.map((x) => x.label));
	assert.equal(result.evaluation.confusion.flat().reduce((a, b) => a + b, 0), val.length);
	// the head exported as safetensors is the last checkpoint's weights, byte for byte
	const { bytes } = s.export({ what: 'head', format: 'safetensors' });
	assert.deepEqual(bytes, epochs.at(-1).checkpoint.weights);
	assert.deepEqual([...s.export({ what: 'model', format: 'pth' }).bytes.subarray(0, 2)], [0x50, 0x4b]);   // a zip: PK

	// a second run given those features computes none
	const again = await run(session(), settings, { features: Object.fromEntries(fresh) });
	assert.deepEqual(again.events.flatMap((e) => e.newFeatures ?? []), []);
	const f = again.events.find((e) => e.type === 'features');
	assert.equal(f.cached, all.length);
	assert.deepEqual(again.result.evaluation.predictions, result.evaluation.predictions);

	// after a reload: a fresh session restored from the checkpoint predicts exactly the same
	const p1 = await s.predict(all[0].blob);
	const restored = session();
	await restored.restore({ settings, classes: CLASSES, checkpoint: { epoch: 3, bytes: epochs.at(-1).checkpoint.weights } });
	const p2 = await restored.predict(all[0].blob);
	assert.deepEqual(p2.logits, p1.logits);
	assert.equal(p1.top.length, 3);
	assert.ok(Math.abs(p1.probs.reduce((a, b) => a + b, 0) - 1) < 1e-9);
});

test('pause holds the loop between batches, resume continues; a stop keeps the last finished epoch', async () => {
	const s = session();
	// BatchNorm in train mode: no cache, every batch a real step
	const settings = checkSettings({ epochs: 3, batchSize: 6, bnMode: 'train' });
	let paused = false, heldFor = 0;
	const { result, events } = await run(s, settings, {
		onProgress: (e, seen) => {
			if (e.type !== 'batch' || paused) return;
			paused = true;
			s.control('pause');
			const count = seen.length;
			setTimeout(() => {
				heldFor = seen.length - count;   // messages while paused
				assert.equal(s.control('resume').paused, false);
			}, 400);
		},
	});
	assert.equal(result.status, 'done');
	assert.equal(heldFor, 0, 'no progress while paused');
	assert.equal(events.filter((e) => e.type === 'epoch').length, 3);

	const stopper = new AbortController();
	const stopped = await run(s, settings, {
		signal: stopper.signal,
		onProgress: (e) => { if (e.type === 'batch' && e.epoch === 2) stopper.abort(); },
	});
	assert.equal(stopped.result.status, 'stopped');
	const last = stopped.events.filter((e) => e.type === 'epoch').at(-1);
	assert.equal(last.epoch, 1);
	// the model went back to epoch 1's checkpoint: its head is that checkpoint's
	const head = s.export({ what: 'head', format: 'safetensors' }).bytes;
	const again = session();
	await again.restore({ settings, classes: CLASSES, checkpoint: { epoch: 1, bytes: last.checkpoint.weights } });
	assert.deepEqual((await s.predict(all[5].blob)).logits, (await again.predict(all[5].blob)).logits);
	assert.ok(head.length > 0);
});

test('refusals say what is wrong', async () => {
	const s = session();
	await assert.rejects(s.predict(all[0].blob), /no trained head yet/);
	assert.throws(() => s.export({ what: 'head', format: 'pth' }), /no trained head yet/);
	await assert.rejects(s.train({ settings: checkSettings(), classes: ['one'], train: all, val: [] }, { signal: new AbortController().signal, progress() {} }), /at least two classes/);
	assert.throws(() => s.control('jump'), /'pause' or 'resume'/);
});
