// A model handle draws torchvision's init only when it is first used without
// weights (engine/api/gb_model_api.c, ready_model): the numbers are those of
// torch.manual_seed(seed); resnet18(), whatever the first call, and a model
// whose first call is a successful load holds the file's values alone.
// Reference: weights/resnet18_seed0.safetensors of the e2e fixtures
// (torch.manual_seed(0); torchvision.models.resnet18().state_dict()).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { loadEngine } from '../../js/engine.mjs';
import { ensureFrozenFixtures } from '../e2e/frozen/fixtures.mjs';
import { allclose, readNpy } from './fixtures.mjs';

let eng;
let dir;
before(async () => {
	({ dir } = ensureFrozenFixtures());
	eng = await loadEngine({ build: 'simd' });
}, { timeout: 300_000 });
after(() => eng?.dispose());

const seed0 = () => readFileSync(join(dir, 'weights/resnet18_seed0.safetensors'));

/** Runs fn(model) on a fresh handle and frees it. */
function withModel(classes, seed, fn) {
	const m = eng.model(classes, seed);
	try {
		return fn(m);
	} finally {
		m.dispose();
	}
}

// fc's uniform_ draws are bit-exact with torch; conv's normal_ within a few ulps (engine/nn/README.md).
const KEYS = ['conv1.weight', 'layer4.1.conv2.weight', 'bn1.weight', 'fc.weight', 'fc.bias'];
function expectTorchInit(m, file, what) {
	for (const k of KEYS) {
		const got = m.tensor(k);
		const want = file.get(k);
		if (k.startsWith('fc.') || k.startsWith('bn1.')) assert.deepEqual(got, want, `${what}: ${k} bit for bit`);
		else assert.ok(allclose(got, want, { rtol: 1e-6, atol: 0 }).ok, `${what}: ${k} within a few ulps`);
	}
}

test('torchvision’s init is drawn on first use, the same whatever that use is, and never over loaded weights', () => {
	const file = withModel(1000, 5, (ref) => {
		ref.load(seed0());   // loaded first: seed 5 is never drawn
		return new Map(KEYS.map((k) => [k, ref.tensor(k)]));
	});
	withModel(1000, 0, (m) => expectTorchInit(m, file, 'read first'));
	withModel(1000, 0, (m) => {
		m.setRequiresGrad('', false);
		m.replaceFc(10, 0);   // the backbone's draws come before the new head's, as in the tutorial
		for (const k of KEYS.slice(0, 3)) assert.ok(allclose(m.tensor(k), file.get(k), { rtol: 1e-6, atol: 0 }).ok, k);
		assert.deepEqual(m.tensor('fc.weight'), new Float32Array(readNpy(join(dir, 'fc10/weight.npy')).data));
	});
	withModel(1000, 0, (m) => {
		assert.throws(() => m.load(readFileSync(join(dir, 'broken/truncated.safetensors'))));
		expectTorchInit(m, file, 'after a failed load');   // a refused file leaves the init to be drawn
	});
	withModel(1000, 3, (m) => {
		m.load(seed0());
		expectTorchInit(m, file, 'loaded first with another seed');   // the file's values, not seed 3's
	});
});
