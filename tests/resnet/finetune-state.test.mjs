// finetune-state.test.mjs: what a fine-tuning run keeps and checks besides its steps
// (docs/fine-tuning.md §1): the head saved alone and loaded by real PyTorch, partial loads and
// their refusals, the divergence guard's finite(), the optimizer state of a run resumed after a
// reload (bit for bit the uninterrupted run), and the error messages. Fixtures:
// gen_finetune_fixtures.py (build/finetune-fixtures), as finetune-engine.test.mjs.
//   node --test tests/resnet/finetune-state.test.mjs     (GB_FINETUNE_BUILDS=simd to skip mt)
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { loadEngine } from '../../js/engine.mjs';
import { FINETUNE_FIXTURES, PYTHON, ensureFinetuneFixtures, readNpy } from './fixtures.mjs';
import { headKeys, makeModel, trainEpochs } from './finetune-recipe.mjs';

const BUILDS = (process.env.GB_FINETUNE_BUILDS ?? 'simd,mt').split(',');
let manifest, X, Y, FEATS, tmp;
const fx = (rel) => readNpy(join(FINETUNE_FIXTURES, rel));

before(() => {
	manifest = ensureFinetuneFixtures();
	X = fx('x.npy').data;
	Y = Int32Array.from(fx('y.npy').data, Number);
	FEATS = fx('features.npy').data;
	tmp = mkdtempSync(join(tmpdir(), 'gb-finetune-'));
}, { timeout: 300_000 });
after(() => rmSync(tmp, { recursive: true, force: true }));

const bitsEqual = (a, b) => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));
const caseOf = (id) => manifest.cases.find((k) => k.id === id);

/** The keys of a safetensors file, in header order (__metadata__ left out). */
function safetensorsKeys(bytes) {
	const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
	return Object.keys(JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)))).filter((k) => k !== '__metadata__');
}

/** A safetensors file of float32 tensors {key: {shape, data}}. */
function safetensors(tensors) {
	const header = {};
	let off = 0;
	for (const [k, t] of Object.entries(tensors)) {
		header[k] = { dtype: 'F32', shape: t.shape, data_offsets: [off, off + t.data.length * 4] };
		off += t.data.length * 4;
	}
	let h = JSON.stringify(header);
	h += ' '.repeat((8 - (h.length % 8)) % 8);
	const out = new Uint8Array(8 + h.length + off);
	new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
	out.set(new TextEncoder().encode(h), 8);
	let p = 8 + h.length;
	for (const t of Object.values(tensors)) {
		out.set(new Uint8Array(Float32Array.from(t.data).buffer), p);
		p += t.data.length * 4;
	}
	return out;
}

// PyTorch loads a head file into a module whose only child is fc, strict=True, and prints
// fc(features) for the fixture's features: the head works in PyTorch as it does here.
const TORCH_HEAD = `
import json, struct, sys, numpy as np, torch, torch.nn as nn
path, feats = sys.argv[1], torch.from_numpy(np.load(sys.argv[2]))
if path.endswith('.pth'):
    sd = torch.load(path, weights_only=True)
else:
    raw = open(path, 'rb').read(); n = struct.unpack('<Q', raw[:8])[0]; head = json.loads(raw[8:8 + n])
    sd = {k: torch.from_numpy(np.frombuffer(raw[8 + n + v['data_offsets'][0]:8 + n + v['data_offsets'][1]],
          dtype=np.float32).reshape(v['shape']).copy()) for k, v in head.items() if k != '__metadata__'}
m = nn.Module(); m.fc = nn.Linear(512, sd['fc.weight'].shape[0])
print(m.load_state_dict(sd, strict=True), file=sys.stderr)
with torch.no_grad(): print(json.dumps(m.fc(feats).flatten().tolist()))
`;

for (const build of BUILDS) describe(`${build} build`, () => {
	let eng;
	before(async () => { eng = await loadEngine({ build }); }, { timeout: 60_000 });
	after(() => eng?.dispose());
	const ctx = () => ({ eng, manifest, X, Y, weights: readFileSync(join(FINETUNE_FIXTURES, 'resnet18.pth')) });

	/** head_sgd trained for one epoch on cached features. */
	function trainedHead() {
		const model = makeModel(ctx(), caseOf('head_sgd'));
		trainEpochs(ctx(), model, 0, 1, FEATS);
		return model;
	}

	test("save({ keys: ['fc.'] }): the head alone, and PyTorch loads it (strict) into an fc", () => {
		const model = trainedHead();
		try {
			const want = model.headForward(FEATS, manifest.N);
			for (const format of ['safetensors', 'pth']) {
				const bytes = model.save(format, { keys: ['fc.'] });
				const file = join(tmp, `head-${build}.${format}`);
				writeFileSync(file, bytes);
				if (format === 'safetensors') assert.deepEqual(safetensorsKeys(bytes), headKeys);
				const r = spawnSync(PYTHON, ['-c', TORCH_HEAD, file, join(FINETUNE_FIXTURES, 'features.npy')],
					{ encoding: 'utf8', timeout: 120_000 });
				assert.equal(r.status, 0, r.stderr);
				assert.match(r.stderr, /<All keys matched successfully>/);
				const got = JSON.parse(r.stdout);
				const diff = Math.max(...got.map((v, i) => Math.abs(v - want[i])));
				assert.ok(diff <= 1e-5, `${format}: PyTorch's logits differ by ${diff}`);
			}
			const l4 = model.save('safetensors', { keys: ['layer4.', 'fc.'] });
			assert.equal(safetensorsKeys(l4).length, 30 + 2);   // layer4: 5 convs, 5 BatchNorms × 5 entries
			assert.throws(() => model.save('safetensors', { keys: ['nope.'] }), /no state_dict key starts with 'nope\.'/);
		} finally {
			model.dispose();
		}
	});

	test('load(bytes, { strict: false }): the keys it has; refusals change nothing', () => {
		const a = trainedHead();
		const b = makeModel(ctx(), caseOf('head_sgd'));
		try {
			const head = a.save('safetensors', { keys: ['fc.'] });
			const conv1 = b.tensor('conv1.weight');
			assert.ok(!bitsEqual(b.tensor('fc.weight'), a.tensor('fc.weight')));
			const fcBefore = b.tensor('fc.weight');
			assert.throws(() => b.load(head), /Missing key\(s\) in state_dict: "conv1\.weight", "bn1\.weight"/);
			assert.ok(bitsEqual(b.tensor('fc.weight'), fcBefore), 'a refused strict load changed fc');
			const w = a.tensor('fc.weight');
			const bias = a.tensor('fc.bias');
			const extra = safetensors({ 'fc.weight': { shape: [3, 512], data: w }, 'fc.bias': { shape: [3], data: bias },
				'fc.extra': { shape: [1], data: [1] } });
			assert.throws(() => b.load(extra, { strict: false }), /Unexpected key\(s\) in state_dict: "fc\.extra"/);
			const five = safetensors({ 'fc.weight': { shape: [5, 512], data: new Float32Array(2560) },
				'fc.bias': { shape: [5], data: new Float32Array(5) } });
			assert.throws(() => b.load(five, { strict: false }), new RegExp('size mismatch for fc\\.weight: copying a param '
				+ 'with shape torch\\.Size\\(\\[5, 512\\]\\) from checkpoint, the shape in current model is torch\\.Size\\(\\[3, 512\\]\\)'));
			assert.throws(() => b.load(safetensors({}), { strict: false }), /holds no tensors: nothing to load/);
			assert.ok(bitsEqual(b.tensor('fc.weight'), fcBefore), 'a refused partial load changed fc');
			b.load(head, { strict: false });
			assert.ok(bitsEqual(b.tensor('fc.weight'), w) && bitsEqual(b.tensor('fc.bias'), bias), 'fc loaded');
			assert.ok(bitsEqual(b.tensor('conv1.weight'), conv1), 'the keys the file lacks keep their values');
		} finally {
			a.dispose();
			b.dispose();
		}
	});

	test('finite(): trainable parameters and running statistics, not frozen weights', () => {
		const model = trainedHead();
		try {
			assert.equal(model.finite(), true);
			const w = model.tensor('fc.weight');
			model.setTensor('fc.weight', w.map((v, i) => (i === 700 ? NaN : v)));
			assert.equal(model.finite(), false, 'NaN in fc.weight');
			model.setTensor('fc.weight', w);
			model.setTensor('fc.bias', [0, Infinity, 0]);
			assert.equal(model.finite(), false, 'inf in fc.bias');
			model.setTensor('fc.bias', [0, 0, 0]);
			const rv = model.tensor('layer1.0.bn1.running_var');
			model.setTensor('layer1.0.bn1.running_var', rv.map((v, i) => (i === 3 ? Infinity : v)));
			assert.equal(model.finite(), false, 'a running statistic');
			model.setTensor('layer1.0.bn1.running_var', rv);
			const c = model.tensor('conv1.weight');
			model.setTensor('conv1.weight', c.map((v, i) => (i === 5 ? NaN : v)));
			assert.equal(model.finite(), true, 'frozen conv1 is not checked');
			model.setRequiresGrad('conv1', true);
			assert.equal(model.finite(), false, 'conv1 once it trains');
		} finally {
			model.dispose();
		}
	});

	for (const id of ['head_sgd', 'head_adam', 'layer4_sgd', 'layer4_train_bn']) {
		test(`${id}: stopped after epoch 1 and resumed from its checkpoint = never stopped, bit for bit`, () => {
			const c = caseOf(id);
			const cached = id.startsWith('head_');
			const keys = c.unfreeze.map((u) => `${u}.`);
			const whole = makeModel(ctx(), c);
			const first = makeModel(ctx(), c);
			const resumed = makeModel(ctx(), c);
			try {
				const feats = cached ? whole.features(X, [manifest.N, 3, manifest.size, manifest.size]) : null;
				const lossesWhole = trainEpochs(ctx(), whole, 0, 3, feats);
				trainEpochs(ctx(), first, 0, 1, feats);
				const weights = first.save('safetensors', { keys });
				const state = first.optimizerState();
				const names = safetensorsKeys(state);
				if (c.optim.type === 'sgd') assert.ok(names.includes('fc.weight.momentum_buffer'), names.join());
				else assert.deepEqual(names, ['fc.weight.exp_avg', 'fc.weight.exp_avg_sq', 'fc.weight.step', 'fc.bias.exp_avg', 'fc.bias.exp_avg_sq', 'fc.bias.step']);
				resumed.load(weights, { strict: false });
				resumed.setOptimizerState(state);
				const lossesResumed = trainEpochs(ctx(), resumed, 1, 3, feats);
				assert.ok(bitsEqual(lossesResumed, lossesWhole.subarray(lossesWhole.length - lossesResumed.length)), 'losses');
				for (const key of [...headKeys, ...(cached ? [] : ['layer4.1.conv2.weight', 'layer4.1.bn2.running_var'])]) {
					assert.ok(bitsEqual(resumed.tensor(key), whole.tensor(key)), key);
				}
			} finally {
				for (const m of [whole, first, resumed]) m.dispose();
			}
		});
	}

	test('optimizer state: refused when it is not this optimizer\'s, and nothing changes', () => {
		const sgd = trainedHead();
		const adam = makeModel(ctx(), caseOf('head_adam'));
		const l4 = makeModel(ctx(), caseOf('layer4_sgd'));
		try {
			trainEpochs(ctx(), adam, 0, 1, FEATS);
			trainEpochs(ctx(), l4, 0, 1);
			assert.throws(() => sgd.setOptimizerState(adam.optimizerState()), /'fc\.weight\.exp_avg' is not state of SGD/);
			assert.throws(() => adam.setOptimizerState(sgd.optimizerState()), /'fc\.weight\.momentum_buffer' is not state of Adam/);
			assert.throws(() => sgd.setOptimizerState(l4.optimizerState()),
				/'layer4\.0\.conv1\.weight\.momentum_buffer' is not the state of a parameter this optimizer trains/);
			assert.throws(() => sgd.setOptimizerState(new Uint8Array([1, 2, 3])), /safetensors/);
			// The refusals left sgd's state as it was: the next steps are those of an untouched twin.
			const twin = trainedHead();
			try {
				assert.ok(bitsEqual(trainEpochs(ctx(), sgd, 1, 2, FEATS), trainEpochs(ctx(), twin, 1, 2, FEATS)));
			} finally {
				twin.dispose();
			}
		} finally {
			for (const m of [sgd, adam, l4]) m.dispose();
		}
	});

	test('setOptimizer, step and headStep: torch\'s ValueError texts and clear refusals', () => {
		const model = makeModel(ctx(), caseOf('head_sgd'));
		const f = FEATS.subarray(0, 2 * 512);
		try {
			const bad = [
				[{ type: 'sgd', lr: -1 }, /Invalid learning rate: -1$/],
				[{ type: 'sgd', lr: 0.1, momentum: -0.5 }, /Invalid momentum value: -0.5$/],
				[{ type: 'sgd', lr: 0.1, weightDecay: -1 }, /Invalid weight_decay value: -1$/],
				[{ type: 'sgd', lr: 0.1, nesterov: true }, /Nesterov momentum requires a momentum and zero dampening$/],
				[{ type: 'adam', betas: [1, 0.999] }, /Invalid beta parameter at index 0: 1$/],
				[{ type: 'adam', eps: -1 }, /Invalid epsilon value: -1$/],
				[{ type: 'rmsprop', lr: 0.1 }, /unknown optimizer 'rmsprop'/],
				[{ type: 'sgd' }, /SGD needs a learning rate/],
			];
			for (const [opts, re] of bad) assert.throws(() => model.setOptimizer(opts), re, JSON.stringify(opts));
			assert.throws(() => model.headStep(f, 2, [0, 1]), /no optimizer: set one first/);
			model.setOptimizer({ type: 'sgd', lr: 0.01 });
			model.setRequiresGrad('layer4', true);   // drops the optimizer (its parameters changed)
			assert.throws(() => model.step(X.subarray(0, 3 * 64 * 64), [1, 3, 64, 64], [0]), /no optimizer/);
			model.setOptimizer({ type: 'sgd', lr: 0.01 });
			assert.throws(() => model.headStep(f, 2, [0, 1]),
				/trains fc alone, but 15 other parameter\(s\) require grad \(the first: layer4\.0\.conv1\.weight\)/);
			model.setRequiresGrad('', false);
			assert.throws(() => model.setOptimizer({ type: 'sgd', lr: 0.01 }), /optimizer got an empty parameter list/);
			assert.throws(() => model.headStep(f, 2, [0, 1, 2]), /2 rows need 2 targets, not 3/);
			model.setRequiresGrad('fc', true);
			model.setOptimizer({ type: 'sgd', lr: 0.01 });
			const one = X.subarray(0, 3 * 64 * 64);
			assert.throws(() => model.step(one, [2, 3, 64, 64], [0, 1]), /shape \[2,3,64,64\] needs 24576 values, not 12288/);
			assert.throws(() => model.features(one, [1, 3, 64, 63]), /needs 12096 values, not 12288/);
			assert.throws(() => model.step(one, [1, 3, 64, 64], [0, 1]), /1 images need 1 targets, not 2/);
			assert.throws(() => model.step(one, [1, 3, 64, 64], [3]), /Target 3 is out of bounds\./);
			assert.throws(() => model.headStep(f, 2, [0, -1]), /Target -1 is out of bounds\./);
			assert.equal(model.finite(), true);
		} finally {
			model.dispose();
		}
	});
});
