// gradbox-worker.mjs: the Gradbox side of the page benchmark, in a module Worker as
// the lesson page runs it. Messages → {id, ok, result | error}:
//   {id, type: 'setup', threads, batch, input, train?, scaling?}   train: module paths that
//        train (TRAIN_CASES in bench-core.mjs); without it the model stays in eval for forward.
//        scaling: two engines, the simd build with 1 thread and the mt build with 2
//        (benchScaling in bench-core.mjs), each with its own model
//   {id, type: 'forward', input?, shape?, threads?}       → logits (threads: which, with scaling)
//   {id, type: 'timed-forward'}                           → ms of a forward after an untimed one,
//        timed here (the scaling row's pair: two such workers side by side)
//   {id, type: 'train-step'}                              → the loss before the step
//   {id, type: 'info'}                                    → {build, wasm_heap_mb, loss?}
import { loadEngine } from '/js/engine.mjs';
import { setupTrainModel, TRAIN_SGD, trainTargets } from '/bench/ort/bench-core.mjs';

const WEIGHTS = '/build/resnet-fixtures/resnet18.pth';

let engine;
let model;
let byThreads = null;   // scaling: {1: model, 2: model}
let input;
let shape;
let targets;
let loss = null;

async function setup({ threads, batch, train, scaling }) {
	const r = await fetch(WEIGHTS);
	if (!r.ok) throw new Error(`${WEIGHTS}: HTTP ${r.status} (run the resnet tests once to make it)`);
	const weights = new Uint8Array(await r.arrayBuffer());
	shape = [batch, 3, 224, 224];
	if (scaling) {
		byThreads = {};
		for (const [t, build] of [[1, 'simd'], [2, 'mt']]) {
			engine = await loadEngine({ build, wasmDir: '/web/public/wasm/', threads: t });
			byThreads[t] = engine.model(1000, 0);
			byThreads[t].load(weights);
		}
		return;
	}
	// The forward rows run as the lesson page would pick (simd for one thread); training runs
	// in the mt build at every thread count, as bench/train-step.mjs does in Node.
	const build = train || threads > 1 ? 'mt' : 'simd';
	engine = await loadEngine({ build, wasmDir: '/web/public/wasm/', threads });
	if (train) {
		model = setupTrainModel(engine, weights, train);
		targets = trainTargets(batch);
	} else {
		model = engine.model(1000, 0);
		model.load(weights);
	}
}

self.onmessage = async ({ data }) => {
	try {
		let result = null;
		if (data.type === 'setup') {
			await setup(data);
			input = data.input;
		} else if (data.type === 'forward') {
			const m = byThreads ? byThreads[data.threads] : model;
			result = data.input ? m.forward(data.input, data.shape, 1000) : m.forward(input, shape, 1000);
		} else if (data.type === 'timed-forward') {
			model.forward(input, shape, 1000);
			const t = performance.now();
			model.forward(input, shape, 1000);
			result = performance.now() - t;
		} else if (data.type === 'train-step') {
			result = loss = model.trainStep(input, shape, targets, TRAIN_SGD);
		} else if (data.type === 'info') {
			// wasm memory only grows: its size now is its peak (what bench/train-step.mjs reports)
			result = { build: engine.build, wasm_heap_mb: Math.round(engine.heap().byteLength / 2 ** 20), ...(targets ? { loss } : {}) };
		}
		self.postMessage({ id: data.id, ok: true, result });
	} catch (e) {
		self.postMessage({ id: data.id, ok: false, error: String(e?.message ?? e) });
	}
};
