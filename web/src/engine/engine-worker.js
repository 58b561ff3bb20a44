// The engine worker: the only code that touches the wasm heap. It loads one
// build of the C engine through the shared wrapper (js/engine.mjs) and answers
// the RPC described in docs/engine-protocol.md §4:
//   { id, type: 'init', build?, mock?, wasmDir } → { id, ok, info }
//   { id, type: 'run', steps }          → { id, ok, result }
import { chooseBuild } from './choose-build.js';

// import.meta.glob resolves to {} instead of failing the build while the
// wrapper has not landed; init then reports a readable error.
const wrappers = import.meta.glob('../../../js/engine.mjs');

/** @type {Promise<{ info: object, run: (steps: object[]) => object }> | null} */
let engine = null;

async function load({ build, mock, wasmDir }) {
	if (mock) {
		const { loadMockEngine } = await import('./mock/mock-engine.js');
		return loadMockEngine();
	}
	const importWrapper = wrappers['../../../js/engine.mjs'];
	if (!importWrapper) throw new Error('The engine wrapper js/engine.mjs is missing from this build.');
	const { loadEngine } = await importWrapper();
	return loadEngine({ build: chooseBuild(build), wasmDir });
}

self.onmessage = async (event) => {
	const { id, type } = event.data;
	try {
		if (type === 'init') {
			engine ??= load(event.data);
			const eng = await engine;
			self.postMessage({ id, ok: true, info: eng.info });
		} else if (type === 'run') {
			if (!engine) throw new Error('engine not initialised: send init first');
			const eng = await engine;
			self.postMessage({ id, ok: true, result: eng.run(event.data.steps) });
		} else {
			throw new Error(`unknown message type ${type}`);
		}
	} catch (err) {
		self.postMessage({ id, ok: false, error: String(err?.message ?? err) });
	}
};
