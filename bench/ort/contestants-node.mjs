// contestants-node.mjs: the engines the Node benchmark knows, by name. Each entry makes a
// contestant (see bench-core.mjs) for one process: the runner starts a fresh process per
// (engine, threads, batch), because a wasm runtime's thread count is fixed at start-up.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { makeInput, maxAbsDiff, ortThreadsOnce } from './bench-core.mjs';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BENCH_DIR = process.env.GB_BENCH_DIR ?? join(ROOT, 'build', 'bench');

/** PyTorch's logits on the fixtures' x (written by export_onnx.py), or null if absent. */
export function checkData(dir = BENCH_DIR) {
	const meta = join(dir, 'resnet18.check.json');
	if (!existsSync(meta)) return null;
	const m = JSON.parse(readFileSync(meta, 'utf8'));
	const f32 = (f) => { const b = readFileSync(join(dir, f)); return new Float32Array(b.buffer, b.byteOffset, b.length / 4); };
	return { x: f32(m.x), xShape: m.x_shape, logits: f32(m.logits) };
}

/** ONNX Runtime Web, wasm backend (SIMD + threads build), as a Node process runs it. */
export function ortWeb({ model = join(BENCH_DIR, 'resnet18.onnx') } = {}) {
	let ort;
	let session;
	let input;
	return {
		engine: 'onnxruntime-web',
		async setup({ threads, batch }) {
			ort = await import('onnxruntime-web');
			ortThreadsOnce(threads);
			ort.env.wasm.numThreads = threads;
			ort.env.wasm.simd = true;
			session = await ort.InferenceSession.create(model, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
			input = new ort.Tensor('float32', makeInput(batch), [batch, 3, 224, 224]);
		},
		async forward() {
			const out = await session.run({ input });
			return out.logits.data;
		},
		async check() {
			const c = checkData();
			if (!c) return null;
			const out = await session.run({ input: new ort.Tensor('float32', c.x, c.xShape) });
			return maxAbsDiff(out.logits.data, c.logits);
		},
	};
}

/** A Gradbox ResNet-18 in `build` with `threads`, with the fixtures' resnet18.pth loaded. */
export async function gradboxModel(build, threads) {
	const { loadEngine } = await import('../../js/engine.mjs');
	const { ensureFixtures, FIXTURES } = await import('../../tests/resnet/fixtures.mjs');
	ensureFixtures();
	const model = (await loadEngine({ build, threads })).model(1000, 0);
	model.load(readFileSync(join(FIXTURES, 'resnet18.pth')));
	return model;
}

/** Gradbox: the simd build for 1 thread, the mt build for more, with the same weights as ORT's. */
export function gradbox() {
	let model;
	let input;
	let batchShape;
	return {
		engine: 'gradbox',
		async setup({ threads, batch }) {
			model = await gradboxModel(threads > 1 ? 'mt' : 'simd', threads);
			input = makeInput(batch);
			batchShape = [batch, 3, 224, 224];
		},
		async forward() {
			return model.forward(input, batchShape, 1000);
		},
		async check() {
			const c = checkData();
			if (!c) return null;
			return maxAbsDiff(model.forward(c.x, c.xShape, 1000), c.logits);
		},
	};
}

/**
 * Gradbox with 1 and with 2 threads in this one process, for benchScaling: the simd build
 * (1 thread) and the mt build (2 threads), each with its own copy of the model, as the
 * separate rows run them; forward(batch, threads) runs the one with that many threads.
 * pair() runs a 1-thread forward in each of two worker threads at once (pair-worker.mjs):
 * what the two cores do side by side, for the row's ideal.
 */
export function gradboxScaling() {
	const byThreads = {};
	let input;
	let batchShape;
	let workers = [];
	return {
		engine: 'gradbox',
		async setup({ batch }) {
			byThreads[1] = await gradboxModel('simd', 1);
			byThreads[2] = await gradboxModel('mt', 2);
			input = makeInput(batch);
			batchShape = [batch, 3, 224, 224];
			const { Worker } = await import('node:worker_threads');
			workers = [0, 1].map(() => new Worker(new URL('./pair-worker.mjs', import.meta.url), { workerData: { batch } }));
			await Promise.all(workers.map((w) => new Promise((resolve, reject) => {
				w.once('message', resolve);
				w.once('error', reject);
			})));
		},
		async forward(batch, threads) {
			return byThreads[threads].forward(input, batchShape, 1000);
		},
		async pair() {
			return Promise.all(workers.map((w) => new Promise((resolve) => {
				w.once('message', resolve);
				w.postMessage('go');
			})));
		},
	};
}

export const CONTESTANTS = { 'onnxruntime-web': ortWeb, gradbox, 'gradbox-scaling': gradboxScaling };
