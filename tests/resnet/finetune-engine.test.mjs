// finetune-engine.test.mjs: the engine calls of fine-tuning (docs/fine-tuning.md §1) against
// real PyTorch 1.13 (fixtures from gen_finetune_fixtures.py, made at test time into
// build/finetune-fixtures): DataLoader's order, features, training runs of the head alone (SGD,
// nesterov, Adam; with the optimizer's state) and of layer4 + fc (BatchNorm in eval and train
// mode). Saving, loading, finite() and resuming: finetune-state.test.mjs.
//   node --test tests/resnet/finetune-engine.test.mjs     (GB_FINETUNE_BUILDS=simd to skip mt)
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { loadEngine } from '../../js/engine.mjs';
import { FINETUNE_FIXTURES, allclose, ensureFinetuneFixtures, readNpy } from './fixtures.mjs';
import { headKeys, readSafetensors, runRecipe } from './finetune-recipe.mjs';

const BUILDS = (process.env.GB_FINETUNE_BUILDS ?? 'simd,mt').split(',');

// Tolerances (max |Δ| from torch's float32 result; measured on both builds, in the test's log).
// The engine's convolutions sum in another order than torch's (Winograd, im2col tiles), so
// features differ by float32 rounding: measured 1.8e-5 on values up to ~5. A run carries that
// through its steps: after 9 head steps the weights (~0.07) differ by ≤ 7e-7 and the losses (~1)
// by ≤ 4e-6, the optimizer's state (momentum buffers, Adam's moments) by < 1e-5 of its largest
// value; layer4 + fc in eval mode, ≤ 2e-7 on layer4 and ≤ 6e-7 on the losses. Torch's own
// float32 error (its float32 run against the same run in float64) is of the same size (≤ 3e-7).
// Each bound is a few times the largest difference measured, far below what a wrong step gives
// (one SGD step moves fc by lr·grad ~1e-3; another data order or momentum rule, by more).
// NOTE: BatchNorm in train mode (layer4_train_bn) is the exception: in its first batch a value
// entering layer4.1's first ReLU is 1.7e-6 from 0, within the engine's rounding difference, so
// the ReLU's gate can fall the other way and that step's gradient moves by ~1e-3 in the elements
// it gates: measured ≤ 1e-4 on layer4's parameters, ≤ 7e-4 on its running statistics, 5e-6 on
// fc and 2.2e-5 on the losses. Its bounds are wider, and a test checks that they still tell
// train mode from eval mode: the two modes' runs differ by ≥ 10× each bound.
const TOL_FEATURES = { rtol: 1e-5, atol: 1e-5 };
const TOL = {
	eval: { optim: { rtol: 5e-5, atol: 0 }, head: { rtol: 0, atol: 5e-6 }, layer4: { rtol: 0, atol: 2e-6 }, stats: { rtol: 0, atol: 2e-6 },
		loss: { rtol: 0, atol: 2e-5 } },
	train: { head: { rtol: 0, atol: 5e-5 }, layer4: { rtol: 0, atol: 2e-4 }, stats: { rtol: 0, atol: 2e-3 },
		loss: { rtol: 0, atol: 2e-4 } },
};
const partOf = (key) => (key.startsWith('fc.') ? 'head' : key.includes('.running_') ? 'stats' : 'layer4');

let manifest, X, Y, FEATS;
const fx = (rel) => readNpy(join(FINETUNE_FIXTURES, rel));
const weights = () => readFileSync(join(FINETUNE_FIXTURES, 'resnet18.pth'));
const maxDiff = {};

before(() => {
	manifest = ensureFinetuneFixtures();
	X = fx('x.npy').data;
	Y = Int32Array.from(fx('y.npy').data, Number);
	FEATS = fx('features.npy').data;
}, { timeout: 300_000 });

after(() => console.log(`max |Δ| vs torch: ${JSON.stringify(maxDiff)}`));

function close(got, expected, tol, what) {
	const r = allclose(got, expected, tol);
	maxDiff[what] = Math.max(maxDiff[what] ?? 0, r.maxErr);
	assert.ok(r.ok, `${what}: max |Δ| ${r.maxErr} > ${tol.atol} + ${tol.rtol}·${r.scale}`);
}

const bitsEqual = (a, b) => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));

for (const build of BUILDS) describe(`${build} build`, () => {
	let eng;
	before(async () => { eng = await loadEngine({ build }); }, { timeout: 60_000 });
	after(() => eng?.dispose());
	const ctx = () => ({ eng, manifest, X, Y, weights: weights() });

	test('randperm: the order DataLoader(shuffle=True, generator=manual_seed(s)) visits, epochs 0..4', () => {
		const { n: ns, seeds, epochs } = manifest.randperm;
		for (const n of ns) for (const seed of seeds) {
			const want = fx(`randperm/${n}_${seed}.npy`).data;
			for (let e = 0; e < epochs; e++) {
				const got = eng.randperm(seed, n, e);
				assert.deepEqual(Array.from(got), Array.from(want.subarray(e * n, (e + 1) * n)), `n ${n} seed ${seed} epoch ${e}`);
			}
		}
		assert.throws(() => eng.randperm(0, 0, 0), /randperm: n must be 1\.\.100000000, not 0/);
		assert.throws(() => eng.randperm(-1, 5, 0), /the seed must be 0\.\.2\^64-1/);
	});

	test('features: torch.flatten(avgpool(...), 1), and fc of them is the forward bit for bit', () => {
		const { N, C, size: S } = manifest;
		const model = eng.model(1000, 0);
		try {
			model.load(weights());
			model.replaceFc(C, manifest.head_seed);
			const feats = model.features(X, [N, 3, S, S]);
			assert.equal(feats.length, N * 512);
			close(feats, FEATS, TOL_FEATURES, 'features');
			assert.ok(bitsEqual(model.headForward(feats, N), model.forward(X, [N, 3, S, S], C)),
				'fc(features(x)) must be forward(x) exactly');
			// An image's features are the same bits in any batch (the convolutions choose their
			// algorithm by the image, not the batch: engine/layers/conv2d.c), so a cache filled one
			// image at a time holds what a training batch's forward feeds fc.
			for (const [from, n] of [[3, 1], [0, 2], [5, 8], [20, 1]]) {
				const part = model.features(X.subarray(from * 3 * S * S, (from + n) * 3 * S * S), [n, 3, S, S]);
				assert.ok(bitsEqual(part, feats.subarray(from * 512, (from + n) * 512)), `rows ${from}..${from + n - 1} alone`);
			}
		} finally {
			model.dispose();
		}
	});

	for (const id of ['head_sgd', 'head_nesterov', 'head_adam']) {
		test(`${id}: headStep on cached features trains torch's head`, () => {
			const c = manifest.cases.find((k) => k.id === id);
			const { model, losses } = runRecipe(ctx(), c, { cached: true });
			try {
				close(losses, fx(c.losses).data, TOL.eval.loss, `${id} losses`);
				for (const key of c.final) close(model.tensor(key), fx(`${id}/final/${key}.npy`).data, TOL.eval.head, `${id} ${key}`);
				// optimizer.state_dict()['state'], as torch's optimizer holds it after the run.
				const state = readSafetensors(model.optimizerState());
				assert.deepEqual(Object.keys(state).sort(), [...c.optim_state].sort());
				for (const key of c.optim_state) close(state[key], fx(`${id}/optim/${key}.npy`).data, TOL.eval.optim, `${id} optimizer state`);
			} finally {
				model.dispose();
			}
		});
	}

	test('headStep on the cache ≡ step on the images (backbone frozen, eval): the same bits, every step', () => {
		const c = manifest.cases.find((k) => k.id === 'head_sgd');
		const a = runRecipe(ctx(), c, { cached: true });   // features of all 21 images at once
		const b = runRecipe(ctx(), c, { cached: false });
		try {
			assert.ok(bitsEqual(a.losses, b.losses), 'losses');
			for (const key of headKeys) assert.ok(bitsEqual(a.model.tensor(key), b.model.tensor(key)), key);
		} finally {
			a.model.dispose();
			b.model.dispose();
		}
	});

	test('the train-mode bounds tell train mode from eval mode', () => {
		const far = (a, b, part) => {
			const r = allclose(fx(a).data, fx(b).data, TOL.train[part]);
			assert.ok(r.maxErr > 10 * TOL.train[part].atol, `${a} and ${b} differ by only ${r.maxErr}`);
		};
		far('layer4_sgd/losses.npy', 'layer4_train_bn/losses.npy', 'loss');
		for (const k of ['layer4.1.conv2.weight', 'layer4.1.bn2.running_mean', 'fc.weight']) {
			far(`layer4_sgd/final/${k}.npy`, `layer4_train_bn/final/${k}.npy`, partOf(k));
		}
	});

	for (const id of ['layer4_sgd', 'layer4_train_bn']) {
		test(`${id}: step() trains layer4 + fc as torch does`, () => {
			const c = manifest.cases.find((k) => k.id === id);
			const { model, losses } = runRecipe(ctx(), c, { cached: false });
			try {
				const tol = TOL[c.mode];
				close(losses, fx(c.losses).data, tol.loss, `${id} losses`);
				for (const key of c.final) {
					close(model.tensor(key), fx(`${id}/final/${key}.npy`).data, tol[partOf(key)], `${id} ${partOf(key)}`);
				}
			} finally {
				model.dispose();
			}
		});
	}
});
