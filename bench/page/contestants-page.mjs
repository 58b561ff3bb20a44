// contestants-page.mjs: the engines the page benchmark knows, by name (same contract as
// bench/ort/contestants-node.mjs). The page is served by run.mjs from the repository root,
// so URLs are root-relative: /node_modules/onnxruntime-web/dist/, /build/bench/, /js/.
import { makeInput, maxAbsDiff, ortThreadsOnce, TRAIN_CASES } from '../ort/bench-core.mjs';

const ORT_DIST = '/node_modules/onnxruntime-web/dist/';
const BENCH = '/build/bench/';

async function f32(url) {
	const r = await fetch(url);
	if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
	return new Float32Array(await r.arrayBuffer());
}

/** ONNX Runtime Web, wasm backend, in this page (proxy=true: ORT runs it in its own worker). */
export function ortWeb({ proxy = false } = {}) {
	let ort;
	let session;
	let input;
	return {
		engine: 'onnxruntime-web',
		async setup({ threads, batch }) {
			ort = await import(`${ORT_DIST}ort.wasm.min.mjs`);
			ort.env.wasm.wasmPaths = ORT_DIST;
			ortThreadsOnce(threads);
			ort.env.wasm.numThreads = threads;
			ort.env.wasm.proxy = proxy;
			const model = new Uint8Array(await (await fetch(`${BENCH}resnet18.onnx`)).arrayBuffer());
			session = await ort.InferenceSession.create(model, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
			input = new ort.Tensor('float32', makeInput(batch), [batch, 3, 224, 224]);
		},
		async forward() {
			const out = await session.run({ input });
			return out.logits.data;
		},
		async check() {
			const meta = await (await fetch(`${BENCH}resnet18.check.json`)).json();
			const x = await f32(BENCH + meta.x);
			const want = await f32(BENCH + meta.logits);
			const out = await session.run({ input: new ort.Tensor('float32', x, meta.x_shape) });
			return maxAbsDiff(out.logits.data, want);
		},
	};
}

/**
 * A gradbox-worker.mjs, set up with `setupMsg`; resolves to its call(msg) -> Promise of the
 * result.
 */
async function startWorker(setupMsg) {
	const worker = new Worker(new URL('./gradbox-worker.mjs', import.meta.url), { type: 'module' });
	let nextId = 0;
	const pending = new Map();
	worker.onmessage = ({ data }) => {
		const p = pending.get(data.id);
		pending.delete(data.id);
		if (data.ok) p.resolve(data.result);
		else p.reject(new Error(data.error));
	};
	worker.onerror = (e) => {   // e.g. the module failed to load: fail every pending call
		for (const p of pending.values()) p.reject(new Error(`worker: ${e.message ?? 'failed to start'}`));
		pending.clear();
	};
	const call = (msg, transfer = []) => new Promise((resolve, reject) => {
		const id = nextId++;
		pending.set(id, { resolve, reject });
		worker.postMessage({ id, ...msg }, transfer);
	});
	await call(setupMsg);
	return call;
}

/**
 * Gradbox in a module Worker (the threaded build must not run on the page's main thread),
 * with the same weights: the fixtures' resnet18.pth. The worker is bench/page/gradbox-worker.mjs.
 * With `train` ('a', 'b' or 'c', see TRAIN_CASES) a "forward" of this contestant is one
 * training step (forward, cross-entropy, backward, SGD) instead, and there is no logits check.
 * With `scaling`, the worker holds two engines and forward(batch, threads) picks one, and
 * pair() times a 1-thread forward in each of two more workers at once (benchScaling's ideal).
 */
export function gradbox({ train = null, scaling = false } = {}) {
	const trainCase = train && TRAIN_CASES[train];
	if (train && !trainCase) throw new Error(`unknown training case '${train}' (use ${Object.keys(TRAIN_CASES).join(', ')})`);
	let call;
	let pairCalls = [];
	const c = {
		engine: 'gradbox',
		async setup({ threads, batch }) {
			call = await startWorker({ type: 'setup', threads, batch, input: makeInput(batch), train: trainCase?.paths, scaling });
			if (scaling) pairCalls = await Promise.all([0, 1].map(() => startWorker({ type: 'setup', threads: 1, batch, input: makeInput(batch) })));
		},
		async forward(batch, threads) {
			return call({ type: trainCase ? 'train-step' : 'forward', threads });
		},
		async info() {
			return call({ type: 'info' });
		},
	};
	if (trainCase) return { ...c, what: trainCase.what };
	if (scaling) return { ...c, pair: () => Promise.all(pairCalls.map((p) => p({ type: 'timed-forward' }))) };   // no single logits check
	return {
		...c,
		async check() {
			const meta = await (await fetch(`${BENCH}resnet18.check.json`)).json();
			const x = await f32(BENCH + meta.x);
			const want = await f32(BENCH + meta.logits);
			return maxAbsDiff(await call({ type: 'forward', input: x, shape: meta.x_shape }), want);
		},
	};
}

/** Gradbox with 1 thread (simd build) and 2 (mt build) in one worker, for benchScaling. */
export const gradboxScaling = () => gradbox({ scaling: true });

export const CONTESTANTS = { 'onnxruntime-web': ortWeb, gradbox, 'gradbox-scaling': gradboxScaling };
