// contestants-page.mjs: the engines the page benchmark knows, by name (same contract as
// bench/ort/contestants-node.mjs). The page is served by run.mjs from the repository root,
// so URLs are root-relative: /node_modules/onnxruntime-web/dist/, /build/bench/, /js/.
import { makeInput, maxAbsDiff, ortThreadsOnce } from '../ort/bench-core.mjs';

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

// ==========================================================================================
// TODO(lead): the gradbox contestant in the page. TOOLCHAIN.md says the threaded build must
// run in a module Worker (it freezes the main thread otherwise), so the natural shape is:
//   setup:   start a Worker that does `const { loadEngine } = await import('/js/engine.mjs');
//            engine = await loadEngine({ build: 'mt', wasmDir: '/web/public/wasm/', threads })`,
//            loads /build/resnet-fixtures/resnet18.safetensors (or .pth) into a resnet18 and
//            builds makeInput(batch); answer 'ready'
//   forward: post 'forward', await the logits (Float32Array) back
//   check:   optional, as ortWeb's (fetch /build/bench/check_x.f32, compare with check_logits.f32)
// run.mjs already serves /js/, /web/public/wasm/ and /build/ with COOP/COEP.
// ==========================================================================================
export function gradbox() {
	return {
		engine: 'gradbox',
		async setup() {
			throw new Error('gradbox page contestant not written yet (bench/page/contestants-page.mjs, TODO(lead))');
		},
		async forward() { throw new Error('unreachable'); },
	};
}

export const CONTESTANTS = { 'onnxruntime-web': ortWeb, gradbox };
