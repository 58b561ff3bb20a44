// Promise wrapper around the engine worker's RPC (docs/engine-protocol.md §4).
// Each request carries an id; the worker answers once with { id, ok, result }
// or { id, ok: false, error }, and may send { id, progress } before that.

/**
 * An engine running in a dedicated module Worker.
 * `init()` loads a wasm module and resolves with its info
 * (`{ build, module, simd, threads }`); `call(type, payload)` sends any other
 * request (see engine-worker.js for the list).
 */
export class EngineClient {
	/** @param {{ onDeath?: (message: string) => void }} [opts] */
	constructor(opts = {}) {
		this.worker = new Worker(new URL('./engine-worker.js', import.meta.url), { type: 'module' });
		this.nextId = 1;
		/** @type {Map<number, { resolve: Function, reject: Function, onProgress?: Function }>} */
		this.pending = new Map();
		this.worker.onmessage = (event) => this.settle(event.data);
		this.worker.onerror = (event) => {
			const message = event.message || 'the engine worker stopped';
			this.failAll(message);
			opts.onDeath?.(message);
		};
	}

	/**
	 * Sends a request. `onProgress` receives the worker's progress messages;
	 * `transfer` lists buffers handed over without a copy.
	 * @param {string} type
	 * @param {object} [payload]
	 * @param {{ onProgress?: (p: object) => void, transfer?: Transferable[] }} [opts]
	 * @returns {Promise<any> & { id: number }}
	 */
	call(type, payload = {}, opts = {}) {
		const id = this.nextId++;
		const promise = new Promise((resolve, reject) => {
			this.pending.set(id, { resolve, reject, onProgress: opts.onProgress });
			this.worker.postMessage({ ...payload, id, type }, opts.transfer ?? []);
		});
		promise.id = id;
		return promise;
	}

	/** Asks the worker to stop request `id` (a download); it then fails with an AbortError. */
	cancel(id) {
		this.worker.postMessage({ id: this.nextId++, type: 'cancel', target: id });
	}

	/** Stops the worker for good; every pending request fails. */
	terminate() {
		this.worker.onerror = null;
		this.worker.terminate();
		this.failAll('the engine worker was stopped');
	}

	/** @private */
	settle({ id, ok, error, errorName, progress, result }) {
		const p = this.pending.get(id);
		if (!p) return;
		if (progress) {
			p.onProgress?.(progress);
			return;
		}
		this.pending.delete(id);
		if (ok) p.resolve(result);
		else {
			const err = new Error(error);
			if (errorName) err.name = errorName;
			p.reject(err);
		}
	}

	/** @private */
	failAll(message) {
		for (const p of this.pending.values()) p.reject(new Error(message));
		this.pending.clear();
	}

	/**
	 * Loads the engine. `build` forces a variant ('mt' | 'simd' | 'scalar');
	 * `module` is 'lesson' (autograd only, small) or 'full' (with ResNet-18).
	 * @param {{ build?: string | null, module?: 'lesson' | 'full' }} [opts]
	 */
	init(opts = {}) {
		// The wasm files are public assets next to index.html (web/public/wasm/).
		const wasmDir = new URL('wasm/', document.baseURI).href;
		return this.call('init', { build: opts.build ?? null, module: opts.module ?? 'lesson', wasmDir });
	}

	/**
	 * Runs a steps program in a fresh workspace.
	 * @param {object[]} steps
	 * @returns {Promise<{ steps: Array<{ ok: boolean, state?: object, error?: string, pos?: number }> }>}
	 */
	run(steps) {
		return this.call('run', { steps });
	}
}
