// finetune-loop.test.mjs: js/finetune.mjs's loop on a fake model (a softmax regression in JS with
// the engine's calls: features, headForward, headStep, step, save/load of keys, optimizer state,
// finite; randperm seeded): the events, the batch order, pause, stop, the divergence guard and
// resume after epoch k equal to an uninterrupted run. The engine's own numbers are checked in
// tests/resnet/finetune-loop.test.mjs.
//   node --test tests/node/finetune-loop.test.mjs
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { checkSettings } from '../../js/finetune-settings.mjs';
import { checkpointKeys, evaluate, optimizerOptions, prepareModel, train } from '../../js/finetune.mjs';

const F = 512, IN = 3 * 224 * 224;
const enc = (o) => new TextEncoder().encode(JSON.stringify(o));
const dec = (b) => JSON.parse(new TextDecoder().decode(b));

/** A fake engine: randperm is a seeded shuffle, recorded. */
function fakeEngine() {
	return {
		calls: [],
		randperm(seed, n, epoch) {
			this.calls.push([seed, n, epoch]);
			const p = Int32Array.from({ length: n }, (_, i) => i);
			let a = seed * 7919 + epoch * 104729 + 1;
			for (let i = n - 1; i > 0; i--) { a = (a * 48271) % 2147483647; const j = a % (i + 1); [p[i], p[j]] = [p[j], p[i]]; }
			return p;
		},
	};
}

/** A fake model: fc on the first 512 values of the input; SGD with momentum; NaN on request. */
function fakeModel({ poisonAt = -1 } = {}) {
	const m = {
		W: null, b: null, buf: null, steps: 0, mode: null, opt: null, log: [],
		setRequiresGrad(p, on) { this.log.push(['rg', p, on]); },
		replaceFc(n, seed) { this.W = Array.from({ length: n * F }, (_, i) => Math.sin(i + seed) * 0.01); this.b = new Array(n).fill(0); this.n = n; },
		train(on) { this.mode = on ? 'train' : 'eval'; },
		setOptimizer(o) { this.opt = o; this.buf = null; },
		features(x, [N]) { const f = new Float32Array(N * F); for (let k = 0; k < N; k++) f.set(x.subarray(k * IN, k * IN + F), k * F); return f; },
		headForward(feats, N) {
			const out = new Float32Array(N * this.n);
			for (let k = 0; k < N; k++) for (let c = 0; c < this.n; c++) {
				let s = this.b[c];
				for (let j = 0; j < F; j++) s += this.W[c * F + j] * feats[k * F + j];
				out[k * this.n + c] = s;
			}
			return out;
		},
		headStep(feats, N, t) {
			this.steps++;
			this.correct = 0;
			const z = this.headForward(feats, N);
			const g = new Array(this.W.length + this.n).fill(0);
			let loss = 0;
			for (let k = 0; k < N; k++) {
				const row = Array.from(z.subarray(k * this.n, (k + 1) * this.n));
				const mx = Math.max(...row); const e = row.map((v) => Math.exp(v - mx)); const s = e.reduce((a, v) => a + v, 0);
				loss += (mx + Math.log(s) - row[t[k]]) / N;
				this.correct += row.indexOf(mx) === t[k] ? 1 : 0;
				for (let c = 0; c < this.n; c++) {
					const d = (e[c] / s - (c === t[k] ? 1 : 0)) / N;
					for (let j = 0; j < F; j++) g[c * F + j] += d * feats[k * F + j];
					g[this.W.length + c] += d;
				}
			}
			const p = [...this.W, ...this.b];
			this.buf = this.buf ? this.buf.map((v, i) => this.opt.momentum * v + g[i]) : g;
			const q = p.map((v, i) => v - this.opt.lr * this.buf[i]);
			this.W = q.slice(0, this.W.length); this.b = q.slice(this.W.length);
			if (this.steps === poisonAt) { this.W[3] = NaN; }
			return loss;
		},
		step(x, [N], t) { return this.headStep(this.features(x, [N]), N, t); },
		forward(x, [N]) { return this.headForward(this.features(x, [N]), N); },
		lastCorrect() { return this.correct; },
		finite() { return this.W.every(Number.isFinite) && this.b.every(Number.isFinite); },
		save(fmt, { keys }) { assert.deepEqual(keys, ['fc.']); return enc({ W: this.W, b: this.b }); },
		load(bytes, { strict }) { assert.equal(strict, false); const o = dec(bytes); this.W = o.W; this.b = o.b; },
		optimizerState() { return enc(this.buf); },
		setOptimizerState(bytes) { this.buf = dec(bytes); },
		info() { return { tree: { path: '', type: 'ResNet', children: [{ path: 'bn1', type: 'BatchNorm2d', children: [] }, { path: 'layer4', type: 'Sequential', children: [{ path: 'layer4.0.bn1', type: 'BatchNorm2d', children: [] }] }] } }; },
	};
	return m;
}

/** N images per class, the class written into a few input values. */
function data(classes, perClass, offset = 0) {
	const out = [];
	for (let c = 0; c < classes; c++) for (let i = 0; i < perClass; i++) {
		const x = new Float32Array(IN);
		for (let j = 0; j < F; j++) x[j] = Math.cos(j * (c + 1) + i * 0.1 + offset) + (j % classes === c ? 1 : 0);
		out.push({ label: c, featureKey: `k${c}-${i}-${offset}`, input: async () => x });
	}
	return out;
}

const settings = checkSettings({ epochs: 4, batchSize: 4, lr: 0.05, seed: 3 });

async function run(extra = {}, model = fakeModel(), engine = fakeEngine()) {
	prepareModel(model, extra.settings ?? settings, 3);
	const events = [];
	const r = await train({ engine, model, settings, numClasses: 3, train: data(3, 5), val: data(3, 2, 9), features: new Map(), onEvent: (e) => events.push(e), ...extra });
	return { r, events, model, engine };
}

describe('the training loop', () => {
	test('prepareModel: freeze, head, unfreeze, mode, optimizer', () => {
		const m = fakeModel();
		prepareModel(m, checkSettings({ unfreeze: 'layer4,fc', bnMode: 'train', optimizer: 'adam', lr: 1e-3 }), 4);
		assert.deepEqual(m.log, [['rg', '', false], ['rg', 'layer4', true]]);
		assert.equal(m.mode, 'train');
		assert.deepEqual(m.opt, { type: 'adam', lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0 });
		assert.deepEqual(optimizerOptions(checkSettings({})), { type: 'sgd', lr: 0.01, momentum: 0.9, dampening: 0, weightDecay: 0, nesterov: false });
		assert.deepEqual(checkpointKeys(m, checkSettings({ unfreeze: 'layer4,fc', bnMode: 'train' })),
			['layer4.', 'fc.', 'bn1.']);
		assert.equal(checkpointKeys(m, checkSettings({ unfreeze: 'all' })), null);
	});

	test('events, randperm per epoch, cache used, loss goes down', async () => {
		const { r, events, engine } = await run();
		assert.equal(r.status, 'done');
		assert.deepEqual(engine.calls, [[3, 15, 0], [3, 15, 1], [3, 15, 2], [3, 15, 3]]);
		const feat = events.filter((e) => e.type === 'features');
		assert.deepEqual(feat.at(-1), { type: 'features', done: 21, total: 21, cached: 0 });
		const batches = events.filter((e) => e.type === 'batch');
		assert.equal(batches.length, 4 * 4);
		assert.deepEqual(batches.slice(0, 5).map((e) => [e.epoch, e.batch, e.batches]), [[1, 1, 4], [1, 2, 4], [1, 3, 4], [1, 4, 4], [2, 1, 4]]);
		const epochs = events.filter((e) => e.type === 'epoch');
		assert.deepEqual(epochs.map((e) => e.epoch), [1, 2, 3, 4]);
		assert.ok(epochs[3].trainLoss < epochs[0].trainLoss, 'the loss falls');
		for (const e of epochs) for (const k of ['trainLoss', 'trainAcc', 'valLoss', 'valAcc']) assert.ok(Number.isFinite(e[k]), k);
		assert.ok(epochs[0].checkpoint.weights instanceof Uint8Array);
		assert.equal(r.history.length, 4);
		assert.equal(r.featureCache.on, true);
	});

	test('the feature cache is read before anything is computed', async () => {
		const features = new Map();
		await run({ features });
		assert.equal(features.size, 21);
		const { events } = await run({ features });
		assert.deepEqual(events.find((e) => e.type === 'features'), { type: 'features', done: 21, total: 21, cached: 21 });
	});

	test('pause is awaited between batches; abort stops at the next batch', async () => {
		const ctl = new AbortController();
		let pauses = 0;
		const { r, events } = await run({ signal: ctl.signal, pause: async () => { if (++pauses === 3 + 7) ctl.abort(); /* 3 feature batches, then before the 7th step */ } });
		assert.equal(r.status, 'stopped');
		assert.equal(events.filter((e) => e.type === 'batch').length, 6, 'six batches, then the stop');
		assert.equal(r.epoch, 1, 'the last finished epoch');
	});

	test('a stop ends a pause at once', async () => {
		const ctl = new AbortController();
		let batches = 0;
		const forever = () => new Promise(() => {});
		const onEvent = (e) => { if (e.type === 'batch' && ++batches === 2) setTimeout(() => ctl.abort(), 20); };
		const { r } = await run({ signal: ctl.signal, pause: async () => (batches >= 2 ? forever() : undefined), onEvent });
		assert.equal(r.status, 'stopped');
		assert.equal(batches, 2);
	});

	test('a non-finite weight restores the last good checkpoint and says what to try', async () => {
		const model = fakeModel({ poisonAt: 6 });
		const clean = (await run({}, fakeModel())).r;
		const { r, events } = await run({}, model);
		assert.equal(r.status, 'diverged');
		// poisoned in batch 2: with the cache, the next batch's loss is NaN
		assert.deepEqual(events.at(-1), { type: 'diverged', epoch: 2, batch: 3, what: 'loss', value: 'NaN', restoredEpoch: 1 });
		assert.match(r.message, /The loss became NaN in epoch 2, batch 3.*weights of epoch 1 are back.*lr 0.05 → 0.005/);
		// poisoned in an epoch's last batch: the weights are checked before the checkpoint
		const last = await run({}, fakeModel({ poisonAt: 8 }));
		assert.deepEqual(last.events.at(-1), { type: 'diverged', epoch: 2, batch: 4, what: 'weights', value: 'NaN or infinite', restoredEpoch: 1 });
		assert.match(last.r.message, /A weight became NaN or infinite in epoch 2, batch 4/);
		assert.ok(model.finite());
		// the weights are epoch 1's: the same as a clean run's first checkpoint
		assert.deepEqual(dec(r.checkpoint.weights), dec(clean.history.length && (await run({ settings: { ...settings, epochs: 1 } }, fakeModel())).r.checkpoint.weights));
	});

	test('resume after epoch k equals the uninterrupted run', async () => {
		const full = await run();
		let ck;
		const ctl = new AbortController();
		const part = await run({ signal: ctl.signal, onEvent: (e) => { if (e.type === 'epoch' && e.epoch === 2) { ck = e.checkpoint; ctl.abort(); } } });
		assert.equal(part.r.status, 'stopped');
		const m2 = fakeModel();
		const resumed = await run({ resume: { epoch: 2, checkpoint: ck, history: part.r.history } }, m2);
		assert.equal(resumed.r.status, 'done');
		assert.deepEqual(resumed.engine.calls.map((c) => c[2]), [2, 3]);
		assert.deepEqual(m2.W, full.model.W);
		assert.deepEqual(resumed.r.history.map((h) => h.trainLoss), full.r.history.map((h) => h.trainLoss));
	});

	test('evaluate: per class, confusion, predictions, confidently wrong', async () => {
		const { model } = await run();
		const items = data(3, 4, 5);
		const ev = await evaluate({ model, settings, numClasses: 3, items, features: new Map() });
		assert.equal(ev.predictions.length, 12);
		assert.deepEqual(ev.perClass.map((c) => c.total), [4, 4, 4]);
		assert.equal(ev.confusion.flat().reduce((a, b) => a + b, 0), 12);
		ev.confusion.forEach((row, t) => assert.equal(row[t], ev.perClass[t].correct));
		const wrong = ev.predictions.filter((p) => p.predicted !== p.label);
		assert.equal(ev.confidentWrong.length, Math.min(10, wrong.length));
		for (let i = 1; i < ev.confidentWrong.length; i++) assert.ok(ev.confidentWrong[i - 1].p >= ev.confidentWrong[i].p);
		for (const p of ev.predictions) assert.ok(Math.abs(p.probs.reduce((a, b) => a + b, 0) - 1) < 1e-12);
	});
});
