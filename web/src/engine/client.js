// Promise wrapper around the engine worker's RPC (docs/engine-protocol.md §4).

/**
 * An engine running in a dedicated module Worker.
 * `init()` loads the wasm build and resolves with its info
 * (`{ build, simd, threads }`); `run(steps)` resolves with `{ steps: [...] }`.
 */
export class EngineClient {
	constructor() {
		this.worker = new Worker(new URL('./engine-worker.js', import.meta.url), { type: 'module' });
		this.nextId = 1;
		/** @type {Map<number, { resolve: Function, reject: Function }>} */
		this.pending = new Map();
		this.worker.onmessage = (event) => this.settle(event.data);
		this.worker.onerror = (event) => this.failAll(event.message || 'the engine worker failed to start');
	}

	/** @private */
	call(message) {
		const id = this.nextId++;
		return new Promise((resolve, reject) => {
			this.pending.set(id, { resolve, reject });
			this.worker.postMessage({ id, ...message });
		});
	}

	/** @private */
	settle({ id, ok, error, ...rest }) {
		const p = this.pending.get(id);
		if (!p) return;
		this.pending.delete(id);
		if (ok) p.resolve(rest.info ?? rest.result);
		else p.reject(new Error(error));
	}

	/** @private */
	failAll(message) {
		for (const p of this.pending.values()) p.reject(new Error(message));
		this.pending.clear();
	}

	/**
	 * Loads the engine. `build` forces a variant ('mt' | 'simd' | 'scalar').
	 * @param {{ build?: string | null }} [opts]
	 */
	init(opts = {}) {
		// The wasm files are public assets next to index.html (web/public/wasm/).
		const wasmDir = new URL('wasm/', document.baseURI).href;
		return this.call({ type: 'init', build: opts.build ?? null, wasmDir });
	}

	/**
	 * Runs a steps program in a fresh workspace.
	 * @param {object[]} steps
	 * @returns {Promise<{ steps: Array<{ ok: boolean, state?: object, error?: string, pos?: number }> }>}
	 */
	run(steps) {
		return this.call({ type: 'run', steps });
	}
}
