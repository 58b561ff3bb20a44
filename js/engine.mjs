// engine.mjs: the Gradbox engine for JavaScript, the same in Node and in the
// browser's engine worker. Loads one of the three wasm builds and runs
// "steps" programs (docs/engine-protocol.md) against a workspace.
//
//   const eng = await loadEngine({ build: 'auto' });
//   const { steps } = eng.run([{ op: 'tensor', name: 'a', data: [2, 3], requires_grad: true }, ...]);
//
// NOTE: only this module touches the wasm heap, and it makes a fresh typed
// array view for every access: memory can grow, which detaches old views.

import { CODES, MAX_CLASSES, Model } from './model.mjs';

export { CODES, MAX_CLASSES, Model };

export const BUILDS = ['mt', 'simd', 'scalar'];

const isNode = typeof process === 'object' && !!process.versions?.node && typeof window === 'undefined'
	&& typeof WorkerGlobalScope === 'undefined';

// The smallest module that uses a SIMD128 instruction (i32x4.splat of 0, dropped).
const SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 10, 9, 1, 7,
	0, 65, 0, 253, 15, 26, 11]);

/**
 * The build to run: a `forced` one this environment supports (e.g. `?build=scalar`),
 * else the best it supports: 'mt' where threads can run (Node, or a cross-origin
 * isolated page: elsewhere the threaded build throws "SharedArrayBuffer is not
 * defined"), then 'simd' where SIMD128 validates, then 'scalar'.
 * @param {string | null} [forced]
 * @param {{ threads?: boolean, simd?: boolean }} [env] overrides, for tests
 */
export function detectBuild(forced = null, env = {}) {
	const simd = env.simd ?? (typeof WebAssembly === 'object' && WebAssembly.validate(SIMD_PROBE));
	const threads = simd && (env.threads ?? (typeof SharedArrayBuffer === 'function'
		&& (isNode || globalThis.crossOriginIsolated === true)));
	if (forced === 'scalar' || (forced === 'simd' && simd) || (forced === 'mt' && threads)) return forced;
	return threads ? 'mt' : simd ? 'simd' : 'scalar';
}

/** Flattens nested lists (tolist() style) into values and a shape; throws on ragged input. */
export function flatten(data) {
	if (typeof data === 'number' || typeof data === 'boolean') return { values: [Number(data)], shape: [] };
	if (!Array.isArray(data)) throw new Error('a tensor is a number or a (nested) list of numbers');
	if (data.length === 0) return { values: [], shape: [0] };
	const parts = data.map(flatten);
	const inner = parts[0].shape;
	for (const p of parts) {
		if (p.shape.length !== inner.length || p.shape.some((s, i) => s !== inner[i])) {
			throw new Error('expected a rectangular list: every row must have the same length');
		}
	}
	return { values: parts.flatMap((p) => p.values), shape: [data.length, ...inner] };
}

/** A tensor step's values and shape: nested lists, or flat values with an explicit `shape`. */
export function tensorData(step) {
	const { values, shape } = flatten(step.data);
	if (!step.shape) return { values, shape };
	const n = step.shape.reduce((p, d) => p * d, 1);
	if (n !== values.length) throw new Error(`shape [${step.shape}] needs ${n} values, not ${values.length}`);
	return { values, shape: step.shape };
}

/**
 * Each image's k most likely classes: [{index, label, p}], p = softmax(logits)[index]
 * (computed in double, max subtracted first), most likely first; ties keep the lower index.
 * @param {Float32Array} logits (N × classes)
 * @param {string[] | null} [labels] class names, by index
 */
export function topK(logits, classes, k, labels = null) {
	const out = [];
	for (let n = 0; n < logits.length / classes; n++) {
		const row = logits.subarray(n * classes, (n + 1) * classes);
		const max = row.reduce((m, v) => (v > m ? v : m), -Infinity);
		const sum = row.reduce((s, v) => s + Math.exp(v - max), 0);
		const order = Array.from(row.keys()).sort((a, b) => row[b] - row[a] || a - b).slice(0, k);
		out.push(order.map((i) => ({ index: i, label: labels ? labels[i] : null, p: Math.exp(row[i] - max) / sum })));
	}
	return out;
}

async function defaultWasmDir() {
	return new URL(/* @vite-ignore */ '../web/public/wasm/', import.meta.url).href;
}

async function instantiate(name, wasmDir) {
	const dir = wasmDir.endsWith('/') ? wasmDir : `${wasmDir}/`;
	const url = `${dir}${name}.mjs`;
	const opts = { locateFile: (f) => dir + f };
	if (isNode) {
		// (kept out of browser bundles: these run only under Node)
		const { createRequire } = await import(/* @vite-ignore */ 'node:module');
		const { readFileSync } = await import(/* @vite-ignore */ 'node:fs');
		const { fileURLToPath } = await import(/* @vite-ignore */ 'node:url');
		const path = dir.startsWith('file:') ? fileURLToPath(dir) : dir;
		// The emscripten glue expects these CommonJS globals under Node.
		globalThis.require ??= createRequire(import.meta.url);
		globalThis.__dirname ??= path;
		opts.wasmBinary = readFileSync(`${path}${name}.wasm`);
		opts.locateFile = (f) => path + f;
		opts.mainScriptUrlOrBlob = `${path}${name}.mjs`;
	} else {
		opts.mainScriptUrlOrBlob = url;
	}
	const { default: factory } = await import(/* @vite-ignore */ url);
	return factory(opts);
}

/**
 * Loads the engine. `build` is 'auto' (pick by environment), 'mt', 'simd' or 'scalar';
 * `module` is 'full' (autograd, ResNet-18, weights: gradbox-<build>) or 'lesson' (the
 * autograd lesson alone, a smaller download: gradbox-lesson-<build>); `wasmDir` is where
 * the .mjs/.wasm files live (a URL or, in Node, a path); `threads` caps the engine's
 * threads in the mt build (default: one per core, at most 8).
 */
export async function loadEngine({ build = 'auto', module = 'full', wasmDir, threads } = {}) {
	if (build !== 'auto' && !BUILDS.includes(build)) throw new Error(`unknown build '${build}' (use mt, simd or scalar)`);
	if (module !== 'full' && module !== 'lesson') throw new Error(`unknown module '${module}' (use full or lesson)`);
	const chosen = build === 'auto' ? detectBuild() : build;
	const name = module === 'lesson' ? `gradbox-lesson-${chosen}` : `gradbox-${chosen}`;
	const M = await instantiate(name, wasmDir ?? (await defaultWasmDir()));
	if (chosen === 'mt') {
		// One engine thread per core, at most 8 (the emscripten worker pool's size).
		const cores = globalThis.navigator?.hardwareConcurrency
			?? (await import(/* @vite-ignore */ 'node:os')).availableParallelism();
		M._gb_set_threads(Math.max(1, Math.min(8, threads ?? cores)));
	}
	return new Engine(M, chosen, module);
}

export class Engine {
	constructor(M, build, module = 'full') {
		this.M = M;
		this.build = build;
		const info = JSON.parse(M.UTF8ToString(M._gb_build_info()));
		this.info = { build, module, simd: info.simd, threads: info.threads, version: info.version };
		this.ws = M._gb_ws_new();
		if (this.ws <= 0) throw new Error(`engine: ${this.#message()}`);
	}

	// The heap as it is now. Threaded builds share a growable memory whose
	// buffer changes on growth; single-thread builds refresh HEAPU8 on growth.
	#memory() {
		return this.M.wasmMemory ? this.M.wasmMemory.buffer : this.M.HEAPU8.buffer;
	}

	#message() {
		return this.M.UTF8ToString(this.M._gb_error_message());
	}

	#check(status) {
		if (status !== 0) {
			const err = new Error(this.#message());
			err.pos = this.M._gb_error_pos();
			err.type = this.M.UTF8ToString(this.M._gb_error_type());
			throw err;
		}
	}

	// Calls fn with the C strings and float arrays it needs, then frees them.
	#withArgs(strings, arrays, fn) {
		const M = this.M;
		const ptrs = [];
		try {
			for (const s of strings) {
				const n = M.lengthBytesUTF8(s) + 1;
				const p = M._malloc(n);
				if (!p) throw new Error('engine: out of memory');
				ptrs.push(p);
				M.stringToUTF8(s, p, n);
			}
			for (const { values, type } of arrays) {
				const p = M._malloc(Math.max(4, values.length * 4));
				if (!p) throw new Error('engine: out of memory');
				ptrs.push(p);
				const View = type === 'i32' ? Int32Array : Float32Array;
				new View(this.#memory(), p, values.length).set(values);
			}
			return fn(...ptrs);
		} finally {
			for (const p of ptrs) M._free(p);
		}
	}

	#state(root) {
		return this.#withArgs([root], [], (r) => JSON.parse(this.M.UTF8ToString(this.M._gb_ws_json(this.ws, r))));
	}

	#step(step) {
		const M = this.M;
		switch (step.op) {
		case 'tensor': {
			const { values, shape } = tensorData(step);
			if (shape.length > 4) throw new Error('tensors have at most 4 dimensions here');
			this.#withArgs([step.name], [{ values }, { values: shape, type: 'i32' }], (name, data, dims) =>
				this.#check(M._gb_ws_set_tensor(this.ws, name, data, dims, shape.length, step.requires_grad ? 1 : 0)));
			return {};
		}
		case 'assign':
			this.#withArgs([step.name, step.expr], [], (name, expr) =>
				this.#check(M._gb_ws_assign(this.ws, name, expr, step.no_grad ? 1 : 0)));
			return {};
		case 'backward': {
			const values = step.gradient == null ? [] : flatten(step.gradient).values;
			this.#withArgs([step.name], [{ values }], (name, g) =>
				this.#check(M._gb_ws_backward(this.ws, name, g, values.length, step.retain_graph ? 1 : 0)));
			return { state: this.#state(step.name) };
		}
		case 'zero_grad':
			this.#check(M._gb_ws_zero_grad(this.ws));
			return {};
		case 'gradcheck': {
			const values = step.gradient == null ? [] : flatten(step.gradient).values;
			this.#withArgs([step.name], [{ values }], (name, g) =>
				this.#check(M._gb_ws_gradcheck(this.ws, name, g, values.length, step.eps ?? 0)));   // 0: the engine's default
			return { state: this.#state(step.name) };
		}
		case 'snapshot':
			return { state: this.#state(step.root ?? '') };
		default:
			throw new Error(`unknown step '${step.op}'`);
		}
	}

	/** Runs a steps program in a fresh workspace; stops at the first failing step. */
	run(steps) {
		this.#check(this.M._gb_ws_clear(this.ws));
		const out = [];
		for (const step of steps) {
			try {
				out.push({ ok: true, ...this.#step(step) });
			} catch (e) {
				// Errors of the wrapper itself (bad step data) are Python's ValueError.
				out.push({ ok: false, error: e.message, type: e.type ?? 'ValueError', pos: e.pos ?? -1 });
				break;
			}
		}
		return { steps: out };
	}

	/** A ResNet-18 in this engine (js/model.mjs). */
	model(numClasses = 1000, seed = 0) {
		if (!this.M._gb_model_new) throw new Error("this is the lesson module, which has no ResNet-18: load the engine with module: 'full'");
		const h = this.M._gb_model_new(numClasses, seed);
		if (h <= 0) throw new Error(this.#message());
		return new Model(this, h, numClasses);
	}

	/**
	 * torchvision's ImageNet preprocessing of a picture, as on a PIL image, step by step:
	 * T.Resize(resize) (Pillow's bilinear resize, byte for byte), T.CenterCrop(crop), then
	 * T.ToTensor() and T.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225]).
	 * `pixels` holds width × height × channels bytes, row by row: RGBA (a canvas's
	 * ImageData.data, channels 4; alpha is ignored, as convert('RGB') does) or RGB (3).
	 * @returns {{ resized: {width: number, height: number, rgb: Uint8Array},
	 *   cropped: {width: number, height: number, rgb: Uint8Array}, tensor: Float32Array }}
	 *   rgb: height × width × 3 bytes; tensor: 3 × crop × crop floats (model.forward's x).
	 */
	preprocess(pixels, width, height, { channels = 4, resize = 256, crop = 224 } = {}) {
		const M = this.M;
		if (!M._gb_image_resize) throw new Error("this is the lesson module, which has no preprocessing: load the engine with module: 'full'");
		if (pixels.length !== width * height * channels) {
			throw new Error(`expected ${width}×${height}×${channels} = ${width * height * channels} bytes, got ${pixels.length}`);
		}
		const size = this.withInts(2, (p) => this.#check(M._gb_image_resized_size(width, height, resize, p)));
		const [rw, rh] = size.ints;
		const ptrs = [rw * rh * 3, crop * crop * 3, 3 * crop * crop * 4].map((n) => M._malloc(n));
		try {
			if (ptrs.includes(0)) throw new Error('engine: out of memory');
			const [resized, cropped, tensor] = ptrs;
			this.withBytes(pixels, (p) => this.#check(M._gb_image_resize(p, width, height, channels, rw, rh, resized)));
			this.#check(M._gb_image_center_crop_normalize(resized, rw, rh, crop, cropped, tensor));
			const mem = this.#memory();
			return {
				resized: { width: rw, height: rh, rgb: new Uint8Array(mem, resized, rw * rh * 3).slice() },
				cropped: { width: crop, height: crop, rgb: new Uint8Array(mem, cropped, crop * crop * 3).slice() },
				tensor: new Float32Array(mem, tensor, 3 * crop * crop).slice(),
			};
		} finally {
			for (const p of ptrs) if (p) M._free(p);
		}
	}

	/**
	 * The order `DataLoader(ds, batch_size=B, shuffle=True, generator=torch.Generator().manual_seed(seed))`
	 * visits ds (n items) in epoch `epoch` (0-based, num_workers=0), as torch 1.13 draws it; the
	 * batch size plays no part. Full module only.
	 * @param {number} seed 0..2^53 (torch keeps the low 32 bits)
	 * @returns {Int32Array}
	 */
	randperm(seed, n, epoch = 0) {
		if (!this.M._gb_randperm) throw new Error("this is the lesson module, which has no randperm: load the engine with module: 'full'");
		return this.withInts(n, (p) => this.#check(this.M._gb_randperm(seed, n, epoch, p))).ints;
	}

	/** Allocates n int32s for fn(ptr); returns fn's result and a copy of them. */
	withInts(n, fn) {
		const p = this.M._malloc(Math.max(4, n * 4));
		if (!p) throw new Error('engine: out of memory');
		try {
			const r = fn(p);
			return { result: r, ints: new Int32Array(this.#memory(), p, n).slice() };
		} finally {
			this.M._free(p);
		}
	}

	/** Copies `bytes` into the heap for fn(ptr), then frees them. */
	withBytes(bytes, fn) {
		const p = this.M._malloc(Math.max(1, bytes.length));
		if (!p) throw new Error('engine: out of memory');
		try {
			new Uint8Array(this.#memory(), p, bytes.length).set(bytes);
			return fn(p);
		} finally {
			this.M._free(p);
		}
	}

	/** Allocates n floats for fn(ptr) and returns fn's result and a copy of them. */
	withFloats(values, n, fn) {
		const p = this.M._malloc(Math.max(4, n * 4));
		if (!p) throw new Error('engine: out of memory');
		try {
			if (values) new Float32Array(this.#memory(), p, values.length).set(values);
			const r = fn(p);
			return { result: r, floats: new Float32Array(this.#memory(), p, n).slice() };
		} finally {
			this.M._free(p);
		}
	}

	/** Throws the engine's message (and Python class) when status is not 0. */
	check(status) { this.#check(status); }

	/** Runs fn with C strings for `strings`. */
	withStrings(strings, fn) { return this.#withArgs(strings, [], fn); }

	heap() { return this.#memory(); }

	/** Frees the workspace and stops the engine's threads. */
	dispose() {
		this.M._gb_ws_free(this.ws);
		this.M._gb_set_threads(1);           // joins the pool's threads
		this.M.PThread?.terminateAllThreads();
	}
}
