// gradbox-worker.mjs: the Gradbox side of the page benchmark, in a module Worker as
// the lesson page runs it. Messages: {id, type: 'setup', threads, batch, input} and
// {id, type: 'forward', input?, shape?} → {id, ok, result | error}.
import { loadEngine } from '/js/engine.mjs';

let engine;
let model;
let input;
let shape;

self.onmessage = async ({ data }) => {
	try {
		let result = null;
		if (data.type === 'setup') {
			engine = await loadEngine({ build: data.threads > 1 ? 'mt' : 'simd', wasmDir: '/web/public/wasm/', threads: data.threads });
			model = engine.model(1000, 0);
			const r = await fetch('/build/resnet-fixtures/resnet18.pth');
			if (!r.ok) throw new Error(`/build/resnet-fixtures/resnet18.pth: HTTP ${r.status} (run the resnet tests once to make it)`);
			model.load(new Uint8Array(await r.arrayBuffer()));
			input = data.input;
			shape = [data.batch, 3, 224, 224];
		} else if (data.type === 'forward') {
			result = data.input ? model.forward(data.input, data.shape, 1000) : model.forward(input, shape, 1000);
		}
		self.postMessage({ id: data.id, ok: true, result });
	} catch (e) {
		self.postMessage({ id: data.id, ok: false, error: String(e?.message ?? e) });
	}
};
