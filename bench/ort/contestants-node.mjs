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

// ==========================================================================================
// TODO(lead): the gradbox contestant. Fill in setup/forward when the ResNet-18 model lands;
// everything else (processes, timing, peak memory, table, --json) is already done.
//   setup:   const { loadEngine } = await import('../../js/engine.mjs');
//            engine = await loadEngine({ build: 'mt', threads });
//            model  = <load build/resnet-fixtures/resnet18.pth or .safetensors into a resnet18>;
//            input  = makeInput(batch)   (same images as ORT's)
//   forward: return <model eval forward of input, shape (batch,3,224,224)> -> Float32Array logits
//   check:   optional, like ortWeb's: run checkData().x (batch 2) and return maxAbsDiff vs .logits
//   teardown: the runner calls process.exit after the row, so PThread workers need no cleanup.
// ==========================================================================================
export function gradbox() {
	return {
		engine: 'gradbox',
		async setup() {
			throw new Error('gradbox contestant not written yet (bench/ort/contestants-node.mjs, TODO(lead))');
		},
		async forward() { throw new Error('unreachable'); },
	};
}

export const CONTESTANTS = { 'onnxruntime-web': ortWeb, gradbox };
