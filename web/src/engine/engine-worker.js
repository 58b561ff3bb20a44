// The engine worker: the only code that touches the wasm heap. It loads one
// module of the C engine through the shared wrapper (js/engine.mjs) and answers
// the RPC of docs/engine-protocol.md §4. Every request is { id, type, ... };
// the answer is { id, ok, result } or { id, ok: false, error, errorName },
// with { id, progress } messages before it for long requests.
//   init { build?, module: 'lesson'|'full', wasmDir }   → engine info
//   run { steps }                                      → { steps } (autograd lesson)
//   cancel { target }                                  stops request `target` (a download)
//   model-* / weights-*                                ResNet-18 (model-session.js)
//   studio-*                                           fine-tuning studio (studio-session.js)
import { detectBuild, loadEngine } from '../../../js/engine.mjs';
import { ModelSession } from './model-session.js';
import { StudioSession } from './studio-session.js';

/** @type {Promise<import('../../../js/engine.mjs').Engine> | null} */
let engine = null;
/** @type {ModelSession | null} */
let session = null;
/** @type {StudioSession | null} */
let studio = null;
/** Requests that can be cancelled: id → AbortController. */
const running = new Map();

async function ready() {
	if (!engine) throw new Error('engine not initialised: send init first');
	return engine;
}

const handlers = {
	async init({ build, module = 'lesson', wasmDir }) {
		// `build` forces one (?build=scalar) when this browser can run it.
		engine ??= loadEngine({ build: detectBuild(build), module, wasmDir });
		self.engineModule = module;   // which worker this is, for tests that pick one (studio-train.spec.mjs)
		return (await engine).info;
	},
	async run({ steps }) {
		return (await ready()).run(steps);
	},
};

async function modelSession() {
	session ??= new ModelSession(await ready());
	return session;
}

/** The studio shares part 2's session: its model is built from the weights part 2 loaded. */
async function studioSession() {
	studio ??= new StudioSession(await ready(), await modelSession());
	return studio;
}

self.onmessage = async (event) => {
	const { id, type, ...payload } = event.data;
	if (type === 'cancel') {
		running.get(payload.target)?.abort();
		return;
	}
	const abort = new AbortController();
	running.set(id, abort);
	try {
		let result;
		if (handlers[type]) result = await handlers[type](payload);
		else if (ModelSession.handles(type)) {
			const progress = (p) => self.postMessage({ id, progress: p });
			result = await (await modelSession()).handle(type, payload, { signal: abort.signal, progress });
		} else if (StudioSession.handles(type)) {
			const progress = (p) => self.postMessage({ id, progress: p });
			result = await (await studioSession()).handle(type, payload, { signal: abort.signal, progress });
		} else throw new Error(`unknown message type ${type}`);
		const transfer = result?.transfer ?? [];
		if (result?.transfer) delete result.transfer;
		self.postMessage({ id, ok: true, result }, transfer);
	} catch (err) {
		self.postMessage({ id, ok: false, error: String(err?.message ?? err), errorName: err?.name });
	} finally {
		running.delete(id);
	}
};
