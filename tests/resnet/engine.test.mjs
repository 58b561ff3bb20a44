// engine.test.mjs: the engine's ResNet-18 against real PyTorch 1.13 / torchvision 0.14.
// Fixtures: gen_resnet_fixtures.py (made at test time; see README.md). The engine runs
// its threaded wasm build, as the page does; tolerances are the manifest's.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { loadEngine } from '../../js/engine.mjs';
import { FIXTURES, allclose, caseOf, checkWritten, ensureFixtures, npy } from './fixtures.mjs';

let manifest, eng;
const tmp = mkdtempSync(join(tmpdir(), 'gradbox-resnet-'));
before(async () => {
	manifest = ensureFixtures();
	eng = await loadEngine({ build: 'mt' });
}, { timeout: 300_000 });
after(() => {
	eng?.dispose();
	rmSync(tmp, { recursive: true, force: true });
});

const weights = (f) => readFileSync(join(FIXTURES, f));

function close(got, expected, tol, what) {
	const r = allclose(got, expected, tol);
	assert.ok(r.ok, `${what}: max |Δ| ${r.maxErr} > ${tol.atol} + ${tol.rtol}·${r.scale}`);
}

/** mean over the batch of −log softmax(logits)[target], in double. */
function crossEntropy(logits, classes, targets) {
	let total = 0;
	targets.forEach((t, n) => {
		const row = Array.from(logits.subarray(n * classes, (n + 1) * classes));
		const m = Math.max(...row);
		const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
		total += lse - row[t];
	});
	return total / targets.length;
}

/** A model with resnet18.pth loaded and, for fine-tuning cases, the tutorial's head. */
function setUp(c) {
	const model = eng.model(1000, 0);
	model.load(weights('resnet18.pth'));
	if (c.requires_grad) {
		model.setRequiresGrad('', false);          // for param in model.parameters(): requires_grad = False
		model.replaceFc(10, 1);                    // torch.manual_seed(1); model.fc = nn.Linear(512, 10)
		model.setRequiresGrad('fc', false);
		for (const path of c.requires_grad) model.setRequiresGrad(path, true);
	}
	model.train(c.mode === 'train');
	return model;
}

describe('reading weights', () => {
	for (const f of ['resnet18.pth', 'resnet18_archive.pth', 'resnet18_renamed.pth', 'resnet18_nobt.pth',
		'resnet18.safetensors', 'resnet18_libstyle.safetensors']) {
		test(`${f}: loads strict, tensors equal torch's`, () => {
			const model = eng.model(1000, 0);
			try {
				model.load(weights(f));
				for (const k of ['fc.weight', 'conv1.weight', 'layer4.1.bn2.running_var']) {
					assert.deepEqual(model.tensor(k), npy(join('weights', `${k}.npy`)).data, k);
				}
			} finally {
				model.dispose();
			}
		});
	}

	test('a pre-1.6 (legacy) .pth is refused with a message, and the model keeps its weights', () => {
		const model = eng.model(1000, 0);
		try {
			const before = model.tensor('conv1.weight');
			assert.throws(() => model.load(weights('resnet18_legacy.pth')), /legacy \(pre-1\.6\) format/);
			assert.throws(() => model.load(new TextEncoder().encode('<html>not weights</html>')), /not a weights file/);
			assert.deepEqual(model.tensor('conv1.weight'), before);
		} finally {
			model.dispose();
		}
	});
});

describe('forward', () => {
	for (const id of ['eval_logits', 'eval_logits_small']) {
		test(`${id}: logits and loss`, () => {
			const c = caseOf(manifest, id);
			const x = npy(c.input);
			const model = setUp(c);
			try {
				const logits = model.forward(x.data, x.shape, 1000);
				close(logits, npy(c.outputs.logits).data, c.tolerance.logits, 'logits');
				close([crossEntropy(logits, 1000, c.targets)], [c.outputs.loss], c.tolerance.loss, 'loss');
			} finally {
				model.dispose();
			}
		});
	}

	test('bn_train_forward: running statistics and num_batches_tracked after a train-mode forward', () => {
		const c = caseOf(manifest, 'bn_train_forward');
		const x = npy(c.input);
		const model = setUp(c);
		try {
			model.forward(x.data, x.shape, 1000);
			const { folder, keys } = c.outputs.buffers;
			for (const k of keys) close(model.tensor(k), npy(join(folder, `${k}.npy`)).data, c.tolerance.buffers, k);
			// num_batches_tracked is int64: read it back through the safetensors writer.
			const st = model.save('safetensors');
			const n = Number(new DataView(st.buffer).getBigUint64(0, true));
			const header = JSON.parse(new TextDecoder().decode(st.subarray(8, 8 + n)));
			for (const [layer, count] of Object.entries(c.outputs.num_batches_tracked)) {
				const { dtype, data_offsets: [b] } = header[`${layer}.num_batches_tracked`];
				assert.equal(dtype, 'I64');
				assert.equal(Number(new DataView(st.buffer).getBigInt64(8 + n + b, true)), count, layer);
			}
		} finally {
			model.dispose();
		}
	});
});

describe('gradients (the frozen-backbone lessons)', () => {
	for (const id of ['grads_fc_eval', 'grads_fc_train', 'grads_fc_eval_small', 'grads_layer4_fc_eval',
		'grads_layer4_fc_train', 'grads_layer4_fc_eval_small', 'grads_layer4_fc_train_small', 'grads_all_eval', 'grads_all_train']) {
		test(`${id}: loss and the .grad of exactly the parameters that require grad`, () => {
			const c = caseOf(manifest, id);
			const x = npy(c.input);
			const model = setUp(c);
			try {
				const loss = model.lossBackward(x.data, x.shape, c.targets);
				close([loss], [c.outputs.loss], c.tolerance.loss, 'loss');
				const { folder, keys } = c.outputs.grads;
				for (const k of keys) {
					const got = model.tensor(k, { grad: true }), expected = npy(join(folder, `${k}.npy`)).data;
					if (c.reference === 'float64') {
						// Against PyTorch in float64: within the tolerance, or no further than twice
						// PyTorch's own float32 result is (the deep gradients are ill-conditioned).
						const r = allclose(got, expected, c.tolerance.grads);
						const allowed = Math.max(c.tolerance.grads.atol + c.tolerance.grads.rtol * r.scale, 2 * c.torch_float32_error[k]);
						assert.ok(r.maxErr <= allowed, `${k}.grad: max |Δ| ${r.maxErr} from float64 > ${allowed}`);
					} else {
						close(got, expected, c.tolerance.grads, `${k}.grad`);
					}
				}
				// Frozen parameters get no .grad at all (backward never entered them).
				for (const k of ['conv1.weight', 'bn1.weight', 'layer3.1.conv2.weight', 'layer4.0.conv1.weight']) {
					if (!keys.includes(k)) assert.equal(model.tensor(k, { grad: true }), null, `${k}.grad should be None`);
				}
			} finally {
				model.dispose();
			}
		});
	}
});

describe('fine-tuning with SGD(lr=1e-2, momentum=0.9)', () => {
	for (const id of ['sgd_fc_eval', 'sgd_fc_train']) {
		test(`${id}: three steps, fc after each, backbone untouched; the written .pth loads in torch`, () => {
			const c = caseOf(manifest, id);
			const x = npy(c.input);
			const model = setUp(c);
			try {
				const conv1 = model.tensor('conv1.weight');
				c.outputs.losses.forEach((expected, i) => {
					const loss = model.trainStep(x.data, x.shape, c.targets, { lr: 1e-2, momentum: 0.9 });
					close([loss], [expected], c.tolerance.losses, `loss before step ${i + 1}`);
					const { folder, keys } = c.outputs.params[`step${i + 1}`];
					for (const k of keys) close(model.tensor(k), npy(join(folder, `${k}.npy`)).data, c.tolerance.params, `${k} after step ${i + 1}`);
				});
				assert.deepEqual(model.tensor('conv1.weight'), conv1);
				const file = join(tmp, `${id}.pth`);
				writeFileSync(file, model.save('pth'));
				const r = checkWritten(file, ['--x', join(FIXTURES, 'x.npy'), '--expect', join(FIXTURES, c.outputs.final_eval_logits)]);
				assert.equal(r.code, 0, JSON.stringify(r).slice(0, 1500));
			} finally {
				model.dispose();
			}
		});
	}
});

describe('writing weights', () => {
	for (const format of ['pth', 'safetensors']) {
		test(`${format}: torch loads it strict and every tensor round-trips bit for bit`, () => {
			const model = eng.model(1000, 0);
			try {
				model.load(weights('resnet18.pth'));
				const file = join(tmp, `written.${format}`);
				writeFileSync(file, model.save(format));
				const r = checkWritten(file, ['--fixtures', FIXTURES]);
				assert.equal(r.code, 0, JSON.stringify(r).slice(0, 1500));
			} finally {
				model.dispose();
			}
		});
	}
});
