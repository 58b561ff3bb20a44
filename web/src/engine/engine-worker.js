// The engine worker: the only code that touches the wasm heap. It loads one
// build of the C engine through the shared wrapper (js/engine.mjs) and answers
// the RPC described in docs/engine-protocol.md §4:
//   { id, type: 'init', build?, wasmDir } → { id, ok, info }
//   { id, type: 'run', steps }          → { id, ok, result }
import { detectBuild, loadEngine } from '../../../js/engine.mjs';

/** @type {Promise<import('../../../js/engine.mjs').Engine> | null} */
let engine = null;

self.onmessage = async (event) => {
	const { id, type } = event.data;
	try {
		if (type === 'init') {
			// `build` forces one (?build=scalar) when this browser can run it.
			// The autograd lesson needs only the small module (no ResNet-18 kernels).
			engine ??= loadEngine({ build: detectBuild(event.data.build), module: 'lesson', wasmDir: event.data.wasmDir });
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
