// resnet.test.mjs: ResNet-18 against real PyTorch (fixtures from gen_resnet_fixtures.py).
//   node --test tests/resnet/
// These check the fixtures and the Python checker themselves; engine.test.mjs checks the
// engine against them.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';

import { FIXTURES, allclose, caseOf, checkWritten, ensureFixtures, npy, npyGroup, readNpy } from './fixtures.mjs';

let manifest;
before(() => { manifest = ensureFixtures(); }, { timeout: 300_000 });

/** safetensors in JS, just enough to cross-check the fixture (header + F32/I64 data). */
function readSafetensors(path) {
	const buf = readFileSync(path);
	const n = Number(buf.readBigUInt64LE(0));
	const header = JSON.parse(buf.toString('utf8', 8, 8 + n));
	delete header.__metadata__;
	const base = 8 + n;
	const out = {};
	for (const [k, { dtype, shape, data_offsets: [b, e] }] of Object.entries(header)) {
		const Ctor = { F32: Float32Array, I64: BigInt64Array }[dtype];
		out[k] = { dtype, shape, data: new Ctor(buf.buffer.slice(buf.byteOffset + base + b, buf.byteOffset + base + e)) };
	}
	return out;
}

describe('fixtures', () => {
	test('every .npy in the manifest exists with the stated dtype and shape', () => {
		const npys = Object.entries(manifest.files).filter(([, f]) => f.kind === 'npy');
		assert.ok(npys.length > 50);
		for (const [rel, f] of npys) {
			const a = npy(rel);
			assert.deepEqual(a.shape, f.shape, rel);
			assert.equal(a.data.length, f.shape.reduce((x, y) => x * y, 1), rel);
		}
	});

	test('the cases cover what the model needs', () => {
		const ids = manifest.cases.map((c) => c.id);
		for (const id of ['eval_logits', 'eval_logits_small', 'grads_fc_eval', 'grads_fc_train',
			'grads_layer4_fc_eval', 'grads_layer4_fc_train', 'sgd_fc_eval', 'sgd_fc_train', 'bn_train_forward']) {
			assert.ok(ids.includes(id), id);
		}
		assert.deepEqual(npy('eval_logits.npy').shape, [2, 1000]);
		assert.deepEqual(npy('x.npy').shape, [2, 3, 224, 224]);
		assert.equal(manifest.model.state_dict_keys.length, 122);
		const g = npyGroup(caseOf(manifest, 'grads_layer4_fc_train').outputs.grads);
		assert.deepEqual(g['layer4.0.conv1.weight'].shape, [512, 256, 3, 3]);
		assert.deepEqual(g['fc.weight'].shape, [10, 512]);
	});

	for (const f of ['resnet18.safetensors', 'resnet18_libstyle.safetensors']) test(`${f}: 122 tensors, same values as the .npy extracts`, () => {
		const st = readSafetensors(join(FIXTURES, f));
		assert.equal(Object.keys(st).length, 122);
		assert.equal(st['bn1.num_batches_tracked'].dtype, 'I64');
		assert.equal(st['bn1.num_batches_tracked'].data[0], 7n);
		for (const k of ['fc.weight', 'conv1.weight', 'layer4.1.bn2.running_var']) {
			const ref = readNpy(join(FIXTURES, 'weights', `${k}.npy`));
			assert.deepEqual(st[k].shape, ref.shape, k);
			assert.deepEqual(st[k].data, ref.data, k);
		}
	});

	test('check_written.py accepts torch-written files and rejects a changed tensor', () => {
		for (const f of ['resnet18_archive.pth', 'resnet18_renamed.pth', 'resnet18.safetensors', 'resnet18_libstyle.safetensors']) {
			const r = checkWritten(join(FIXTURES, f), ['--fixtures', FIXTURES]);
			assert.equal(r.code, 0, JSON.stringify(r).slice(0, 2000));
			assert.ok(r.ok);
		}
		const r = checkWritten(join(FIXTURES, 'resnet18.pth'), ['--ref', join(FIXTURES, 'resnet18_nobt.pth')]);
		assert.equal(r.code, 1);   // 20 keys more than the ref
	});

	test('allclose follows the manifest rule', () => {
		assert.ok(allclose([1, 2.0001], [1, 2], { rtol: 1e-4, atol: 0 }).ok);
		assert.ok(!allclose([1, 2.001], [1, 2], { rtol: 1e-4, atol: 0 }).ok);
		assert.ok(!allclose([NaN, 2], [1, 2], { rtol: 1, atol: 1 }).ok);
	});
});
