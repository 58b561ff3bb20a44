// frozen.test.mjs: the "Finetuning and Frozen parameters" lesson's engine exports against
// real PyTorch 1.13 / torchvision 0.14 / Pillow 9.4 (fixtures from gen_frozen_fixtures.py,
// made at test time into build/frozen-fixtures): printouts and parameter counts, load
// reports, setTensor, who gets a .grad and what backward ran, BatchNorm's running stats,
// torchvision's preprocessing of a PIL image, the top-5 of the ImageNet head.
//   node --test tests/resnet/frozen.test.mjs          (GB_FROZEN_BUILDS=simd to skip mt)
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { loadEngine, topK } from '../../js/engine.mjs';
import { FROZEN_FIXTURES, allclose, caseOf, ensureFrozenFixtures, readNpy } from './fixtures.mjs';

const BUILDS = (process.env.GB_FROZEN_BUILDS ?? 'simd,mt').split(',');
const TOL_LOGITS = { rtol: 1e-4, atol: 1e-4 };

let manifest;
before(() => { manifest = ensureFrozenFixtures(); }, { timeout: 300_000 });

const file = (rel) => readFileSync(join(FROZEN_FIXTURES, rel));
const npy = (rel) => readNpy(join(FROZEN_FIXTURES, rel));
const weights = () => file('resnet18.pth');

function close(got, expected, tol, what) {
	const r = allclose(got, expected, tol);
	assert.ok(r.ok, `${what}: max |Δ| ${r.maxErr} > ${tol.atol} + ${tol.rtol}·${r.scale}`);
	return r.maxErr;
}

/** The lesson's recipe, as the generator's lesson_model: load, freeze every parameter, a new
 * 10-class fc (seed 1), requires_grad on `paths` ("" = everything). */
function lessonModel(eng, paths, { fcFrozen = false } = {}) {
	const model = eng.model(1000, 0);
	model.load(weights());
	model.setRequiresGrad('', false);
	model.replaceFc(10, 1);
	if (fcFrozen) model.setRequiresGrad('fc', false);
	for (const p of paths) model.setRequiresGrad(p, true);
	model.train(false);
	return model;
}

/** Every module of info().tree by path ("" = the model). */
function modulesByPath(tree, out = new Map()) {
	out.set(tree.path, tree);
	for (const c of tree.children) modulesByPath(c, out);
	return out;
}

/** Every parameter entry of info().tree by name, in named_parameters() order. */
function paramsByName(tree) {
	const out = new Map();
	for (const m of modulesByPath(tree).values()) for (const p of m.parameters) out.set(p.name, p);
	return out;
}

/** A state_dict int64 (num_batches_tracked), read back through the safetensors writer. */
function int64Entry(model, key) {
	const st = model.save('safetensors');
	const view = new DataView(st.buffer, st.byteOffset, st.byteLength);
	const n = Number(view.getBigUint64(0, true));
	const { dtype, data_offsets: [b] } = JSON.parse(new TextDecoder().decode(st.subarray(8, 8 + n)))[key];
	assert.equal(dtype, 'I64');
	return Number(view.getBigInt64(8 + n + b, true));
}

/** Torch's graph by node name as the engine names its tape: AccumulateGrad is no node here (a
 * leaf's flow is its .grad) and neither is TBackward0 (fc.weight.t() inside F.linear: the
 * linear node reads w as it is); torch.flatten's ReshapeAliasBackward0 is the engine's
 * ViewBackward0. */
function expectedBackwardOps(graphNodes) {
	const out = {};
	for (const [name, n] of Object.entries(graphNodes)) {
		if (name.endsWith('AccumulateGrad') || name === 'TBackward0') continue;
		out[name === 'ReshapeAliasBackward0' ? 'ViewBackward0' : name] = n;
	}
	return out;
}

const sorted = (o) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)));

for (const build of BUILDS) describe(`${build} build`, () => {
	let eng;
	before(async () => { eng = await loadEngine({ build }); }, { timeout: 60_000 });
	after(() => eng?.dispose());

	describe('printouts and the tree', () => {
		test("children_repr, fc_repr and repr are torch's print output, byte for byte", () => {
			const c = caseOf(manifest, 'printouts');
			const model = lessonModel(eng, ['fc']);
			try {
				const info = model.info();
				assert.equal(info.children_repr, c.children_repr);
				assert.equal(info.fc_repr, c.fc_repr);
				assert.equal(info.repr, c.repr);
			} finally {
				model.dispose();
			}
		});

		test('output_shape is for a 1×3×224×224 input whatever the last forward was; numel per parameter', () => {
			const c = caseOf(manifest, 'printouts');
			const model = lessonModel(eng, ['fc']);
			try {
				model.forward(new Float32Array(2 * 3 * 64 * 96), [2, 3, 64, 96], 10);
				const modules = modulesByPath(model.info().tree);
				assert.equal(modules.size, Object.keys(c.output_shapes_224).length);
				for (const [path, shape] of Object.entries(c.output_shapes_224)) {
					assert.deepEqual(modules.get(path)?.output_shape, shape, `output_shape of '${path}'`);
				}
				const params = paramsByName(model.info().tree);
				assert.deepEqual([...params.keys()], Object.keys(c.param_numel));
				for (const [name, numel] of Object.entries(c.param_numel)) assert.equal(params.get(name).numel, numel, name);
			} finally {
				model.dispose();
			}
		});

		for (const id of ['count_fc', 'count_layer4_fc', 'count_all', 'count_layer2.0.bn1.weight']) {
			test(`${id}: num_params and trainable_params of the model and of each child as torch counts them`, () => {
				const c = caseOf(manifest, id);
				const model = lessonModel(eng, c.requires_grad, { fcFrozen: c.fc_frozen });
				try {
					const { tree } = model.info();
					assert.equal(tree.num_params, c.num_params);
					assert.equal(tree.trainable_params, c.trainable_params);
					for (const child of tree.children) {
						assert.deepEqual([child.num_params, child.trainable_params], c.children[child.name], child.name);
					}
				} finally {
					model.dispose();
				}
			});
		}
	});

	describe('load report', () => {
		test("a successful load reports the format, the file's key count and torch's repr", () => {
			const model = eng.model(1000, 0);
			try {
				assert.equal(model.loadInfo(), null);
				model.load(weights());
				assert.deepEqual(model.loadInfo(), { format: 'pth', keys: manifest.state_dict_keys, report: '<All keys matched successfully>' });
				model.load(file('resnet18.safetensors'));
				assert.deepEqual(model.loadInfo(), { format: 'safetensors', keys: manifest.state_dict_keys, report: '<All keys matched successfully>' });
			} finally {
				model.dispose();
			}
		});

		test('each bad file throws a clear message; weights, logits and load info stay as they were', () => {
			const { cases } = caseOf(manifest, 'load_failures');
			const model = eng.model(1000, 0);
			try {
				model.load(weights());
				const x = npy('x.npy');
				const logits = model.forward(x.data, x.shape, 1000);
				const info = model.loadInfo();
				for (const f of cases) {
					assert.throws(() => model.load(file(f.file)), (e) => {
						// PyTorch's own text where it has one (strict load_state_dict), else ours
						if (f.message) assert.equal(e.message, f.message, f.what);
						else assert.match(e.message, new RegExp(f.pattern), f.what);
						return true;
					}, f.what);
					assert.deepEqual(model.loadInfo(), info, `${f.what}: load info`);
					assert.deepEqual(model.forward(x.data, x.shape, 1000), logits, `${f.what}: logits`);
				}
			} finally {
				model.dispose();
			}
		});
	});

	describe('setTensor', () => {
		test("writing conv1 (im2col), layer1.0.conv1 (Winograd) and bn1's running_var changes the logits as torch's", (t) => {
			const c = caseOf(manifest, 'set_tensor');
			const x = npy(c.input);
			const model = eng.model(1000, 0);
			try {
				model.load(weights());
				const before = model.forward(x.data, x.shape, 1000);   // builds the transformed-weight caches
				close(before, npy(c.logits_before).data, c.tolerance, 'logits before');
				for (const k of c.tensors.keys) {
					const v = npy(join(c.tensors.folder, `${k}.npy`)).data;
					model.setTensor(k, v);
					assert.deepEqual(model.tensor(k), v, k);
				}
				const afterLogits = model.forward(x.data, x.shape, 1000);
				const err = close(afterLogits, npy(c.logits_after).data, c.tolerance, 'logits after');
				const moved = afterLogits.reduce((m, v, i) => Math.max(m, Math.abs(v - before[i])), 0);
				assert.ok(moved > 100 * (err + 1e-6), `the logits moved by ${moved}`);
				t.diagnostic(`logits after: max |Δ| from torch ${err.toExponential(2)}, moved ${moved.toFixed(3)}`);
			} finally {
				model.dispose();
			}
		});

		test('an unknown key, a wrong count and the int64 counter are refused', () => {
			const model = eng.model(10, 0);
			try {
				assert.throws(() => model.setTensor('conv9.weight', [1]), /no tensor 'conv9\.weight' in the state_dict/);
				assert.throws(() => model.setTensor('conv1.weight', new Float32Array(5)), /torch\.Size\(\[64, 3, 7, 7\]\), 9408 elements: got 5/);
				assert.throws(() => model.setTensor('bn1.num_batches_tracked', [3]), /int64/);
			} finally {
				model.dispose();
			}
		});
	});

	describe('who gets a gradient, and what it cost', () => {
		const ids = ['grads_fc', 'grads_layer4_fc', 'grads_all', 'grads_layer2.0.conv1.weight_fc'];
		const steps = {};
		for (const id of ids) {
			test(`${id}: the parameters with a .grad, their norms, the nodes backward ran, where it stopped`, (t) => {
				const c = caseOf(manifest, id);
				const x = npy('x.npy');
				const model = lessonModel(eng, c.requires_grad);
				try {
					const loss = model.lossBackward(x.data, x.shape, [c.target]);
					close([loss], [c.loss], { rtol: 1e-4, atol: 1e-5 }, 'loss');
					const params = paramsByName(model.info().tree);
					const withGrad = [...params.values()].filter((p) => p.has_grad).map((p) => p.name);
					assert.deepEqual(withGrad, c.grad_params, 'the parameters whose .grad is not None');
					let worst = 0, worst64 = 0;
					for (const [name, p] of params) {
						if (!p.has_grad) { assert.equal(p.grad_norm, null, name); continue; }
						const rel = Math.abs(p.grad_norm - c.grad_norms[name]) / c.grad_norms[name];
						assert.ok(rel <= 1e-3, `‖${name}.grad‖ ${p.grad_norm} vs torch ${c.grad_norms[name]}: ${rel.toExponential(2)} relative`);
						worst = Math.max(worst, rel);
						const n64 = c.grad_norms_float64[name];
						worst64 = Math.max(worst64, Math.abs(p.grad_norm - n64) / n64);
					}
					const si = model.stepInfo();
					steps[id] = si;
					assert.equal(si.kind, 'loss_backward');
					assert.deepEqual(si.input_shape, x.shape);
					assert.equal(si.first_grad_module, c.first_grad_module);
					assert.deepEqual(sorted(si.backward_ops), sorted(expectedBackwardOps(c.graph_nodes)));
					assert.equal(si.backward_nodes, Object.values(si.backward_ops).reduce((a, b) => a + b, 0));
					assert.equal(si.tape_nodes, si.backward_nodes);   // every recorded node leads to the loss
					assert.equal(si.params_with_grad, c.grad_params.length);
					assert.equal(si.grad_numel, c.grad_params.reduce((s, k) => s + params.get(k).numel, 0));
					assert.ok(si.forward_ms > 0 && si.backward_ms > 0 && si.optimizer_ms === null && si.peak_bytes > 0);
					t.diagnostic(`${build}: ${si.backward_nodes} backward nodes, forward ${si.forward_ms.toFixed(1)} ms, `
						+ `backward ${si.backward_ms.toFixed(1)} ms, peak ${(si.peak_bytes / 2 ** 20).toFixed(1)} MiB; `
						+ `norms: worst ${worst.toExponential(2)} relative from torch's float32, ${worst64.toExponential(2)} from its float64`);
				} finally {
					model.dispose();
				}
			});
		}

		test('a frozen prefix is never entered: fc only runs the nodes after avgpool, a small part of the whole', () => {
			const fc = steps.grads_fc, all = steps.grads_all, l4 = steps.grads_layer4_fc;
			assert.ok(fc && all && l4, 'the cases above ran');
			// after avgpool: fc (AddmmBackward0) and the loss (LogSoftmax, NllLoss); no flatten,
			// pool, conv, batchnorm or relu node: their inputs and weights need no gradient
			assert.deepEqual(Object.keys(fc.backward_ops).sort(), ['AddmmBackward0', 'LogSoftmaxBackward0', 'NllLossBackward0']);
			assert.ok(all.backward_nodes > 10 * fc.backward_nodes, `${fc.backward_nodes} vs ${all.backward_nodes}`);
			assert.ok(l4.backward_nodes < all.backward_nodes && l4.backward_ops.ConvolutionBackward0 === 5);
			assert.equal(all.first_grad_module, 'conv1');
		});

		test('forward and trainStep record their own step info', () => {
			const model = lessonModel(eng, ['fc']);
			const x = npy('x.npy');
			try {
				assert.equal(model.stepInfo(), null);
				model.forward(x.data, x.shape, 10);
				let si = model.stepInfo();
				assert.equal(si.kind, 'forward');
				assert.deepEqual([si.tape_nodes, si.backward_nodes, si.backward_ms, si.loss, si.first_grad_module], [0, 0, null, null, null]);
				model.trainStep(x.data, x.shape, [3], { lr: 1e-2, momentum: 0.9 });
				si = model.stepInfo();
				assert.equal(si.kind, 'train_step');
				assert.ok(si.optimizer_ms >= 0 && si.backward_nodes === 3 && si.first_grad_module === 'fc');
				assert.throws(() => model.forward(x.data, [1, 3, 0, 5], 10), /bad input shape/);
				assert.equal(model.stepInfo().kind, 'train_step', 'a failed step leaves the last one');
				model.forward(x.data, x.shape, 10);   // fc keeps its .grad; this step gave none
				si = model.stepInfo();
				assert.deepEqual([si.kind, si.first_grad_module, si.params_with_grad, si.grad_numel],
					['forward', null, 2, caseOf(manifest, 'count_fc').trainable_params]);
			} finally {
				model.dispose();
			}
		});
	});

	describe('BatchNorm running stats', () => {
		test('train mode under no_grad, everything frozen: updated as torch; eval mode: untouched', () => {
			const c = caseOf(manifest, 'bn_train_frozen');
			const x = npy(c.input);
			const model = eng.model(1000, 0);
			try {
				model.load(weights());
				model.setRequiresGrad('', false);
				model.train(true);
				model.forward(x.data, x.shape, 1000);
				for (const k of c.buffers.keys) {
					const tol = k.startsWith('bn1.') ? { rtol: 1e-5, atol: 0 } : { rtol: 1e-4, atol: 1e-6 };
					close(model.tensor(k), npy(join(c.buffers.folder, `${k}.npy`)).data, tol, k);
				}
				assert.equal(int64Entry(model, 'bn1.num_batches_tracked'), c.num_batches_tracked);
				const kept = c.buffers.keys.map((k) => model.tensor(k));
				model.train(false);
				model.forward(x.data, x.shape, 1000);
				c.buffers.keys.forEach((k, i) => assert.deepEqual(model.tensor(k), kept[i], `${k} after an eval forward`));
				assert.equal(int64Entry(model, 'bn1.num_batches_tracked'), c.num_batches_tracked);
			} finally {
				model.dispose();
			}
		});
	});

	describe('preprocessing', () => {
		test("Resize(256), CenterCrop(224): every byte as Pillow's; ToTensor + Normalize as torchvision's", (t) => {
			let worstTensor = 0;
			for (const im of manifest.images) {
				const rgba = npy(im.rgba);
				const out = eng.preprocess(rgba.data, im.width, im.height, { channels: 4 });
				assert.deepEqual([out.resized.width, out.resized.height], im.resized_size, `${im.name}: resized size`);
				const want = npy(im.resized).data;
				let differ = 0, maxd = 0;
				for (let i = 0; i < want.length; i++) {
					const d = Math.abs(out.resized.rgb[i] - want[i]);
					if (d) { differ++; maxd = Math.max(maxd, d); }
				}
				assert.equal(differ, 0, `${im.name}: ${differ} resized bytes differ from Pillow's (max |Δ| ${maxd})`);
				assert.deepEqual(out.cropped.rgb, npy(im.cropped).data, `${im.name}: cropped`);
				const ref = npy(im.tensor).data;
				const d = ref.reduce((m, v, i) => Math.max(m, Math.abs(v - out.tensor[i])), 0);
				assert.ok(d <= 1e-6, `${im.name}: tensor max |Δ| ${d}`);
				worstTensor = Math.max(worstTensor, d);
				const rgb = new Uint8Array(im.width * im.height * 3);
				for (let i = 0; i < im.width * im.height; i++) rgb.set(rgba.data.subarray(4 * i, 4 * i + 3), 3 * i);
				assert.deepEqual(eng.preprocess(rgb, im.width, im.height, { channels: 3 }).tensor, out.tensor, `${im.name}: RGB input`);
			}
			t.diagnostic(`${manifest.images.length} images: resized and cropped bytes identical; tensor max |Δ| ${worstTensor}`);
		});

		test('bad sizes are refused with a message', () => {
			assert.throws(() => eng.preprocess(new Uint8Array(12), 2, 2, { channels: 4 }), /expected 2×2×4 = 16 bytes/);
			assert.throws(() => eng.preprocess(new Uint8Array(0), 0, 0, { channels: 4 }), /not a picture size/);
			assert.throws(() => eng.preprocess(new Uint8Array(8), 1, 2, { channels: 4, resize: 100, crop: 224 }), /CenterCrop\(224\)/);
		});
	});

	describe('top-5 on the ImageNet head', () => {
		test("softmax top-5 of a preprocessed picture: torch's classes and probabilities", (t) => {
			const c = caseOf(manifest, 'top5');
			const im = manifest.images.find((i) => i.name === c.image);
			const { tensor } = eng.preprocess(npy(im.rgba).data, im.width, im.height, { channels: 4 });
			const model = eng.model(1000, 0);
			try {
				model.load(weights());
				const top = topK(model.forward(tensor, [1, 3, 224, 224], 1000), 1000, 5)[0];
				assert.deepEqual(top.map((e) => e.index), c.indices);
				const d = top.reduce((m, e, i) => Math.max(m, Math.abs(e.p - c.probs[i])), 0);
				const rel = top.reduce((m, e, i) => Math.max(m, Math.abs(e.p - c.probs[i]) / c.probs[i]), 0);
				assert.ok(d <= 1e-4 && rel <= 1e-4, `probabilities: max |Δ| ${d}, relative ${rel}`);
				t.diagnostic(`top-5 ${c.indices}: max |Δp| ${d.toExponential(2)} (relative ${rel.toExponential(2)})`);
			} finally {
				model.dispose();
			}
		});
	});
});
