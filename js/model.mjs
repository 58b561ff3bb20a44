// model.mjs: a ResNet-18 held by the engine (Engine.model in js/engine.mjs): weights in and
// out, freezing, forward, training steps, and fine-tuning's calls (docs/fine-tuning.md §1).
// NOTE: like engine.mjs, it makes a fresh view of the wasm heap for every access.

/**
 * The codes the C calls take, the only numbers passed that are not counts or shapes: the same
 * values as engine/api/gb_api.h's GB_FORMAT_* and GB_OPTIMIZER_* (keep both in step).
 */
export const CODES = Object.freeze({
	format: Object.freeze({ safetensors: 0, pth: 1 }),
	optimizer: Object.freeze({ sgd: 0, adam: 1 }),
});

/** engine/api/gb_api.h's GB_MAX_CLASSES: fc's out_features is 1 to this. */
export const MAX_CLASSES = 100000;

/** The bytes of x as float32 (a view when x is a Float32Array: the model's inputs are copied into
 * the wasm heap once, and not copied back out as withFloats would). */
export function floatBytes(x) {
	const f = x instanceof Float32Array ? x : Float32Array.from(x);
	return new Uint8Array(f.buffer, f.byteOffset, f.byteLength);
}

/** Throws unless x holds the N·3·H·W values of shape [N, 3, H, W] (N, H, W ≥ 1). */
function checkImages(x, shape) {
	const [N, C, H, W] = shape;
	if (shape.length !== 4 || C !== 3 || ![N, H, W].every((d) => Number.isInteger(d) && d >= 1)) {
		throw new Error(`images have shape [N, 3, H, W], not [${shape}]`);
	}
	if (x.length !== N * 3 * H * W) throw new Error(`shape [${shape}] needs ${N * 3 * H * W} values, not ${x.length}`);
}

/** A ResNet-18 held by the engine: weights in, logits and training steps out. */
export class Model {
	constructor(engine, handle, numClasses = 1000) {
		this.engine = engine;
		this.h = handle;
		/** fc's out_features (changed by replaceFc; a load cannot change it: shapes must fit). */
		this.numClasses = numClasses;
	}

	/**
	 * Loads .safetensors or .pth bytes: load_state_dict(strict=True), or with `strict: false`
	 * only the keys the file has (the others keep their values); unknown keys and shape
	 * mismatches are refused either way, with PyTorch's report, and a refused file changes nothing.
	 */
	load(bytes, { strict = true } = {}) {
		const { M } = this.engine;
		const fn = strict ? M._gb_model_load : M._gb_model_load_partial;
		this.engine.withBytes(bytes, (p) => this.engine.check(fn(this.h, p, bytes.length)));
	}

	/**
	 * The state_dict as 'safetensors' or 'pth' bytes; `keys` (prefixes, e.g. ['fc.']) keeps only
	 * the entries whose key starts with one of them.
	 * @param {'safetensors' | 'pth'} format
	 * @param {{ keys?: string[] }} [opts]
	 */
	save(format = 'safetensors', { keys = null } = {}) {
		const { M } = this.engine;
		if (!Object.hasOwn(CODES.format, format)) throw new Error(`save: unknown format '${format}' (use safetensors or pth)`);
		const f = CODES.format[format];
		if (keys && (!Array.isArray(keys) || keys.some((k) => typeof k !== 'string' || !k || k.includes('\n')))) {
			throw new Error('save: keys must be non-empty key prefixes, e.g. [\'fc.\']');
		}
		return this.#bytesOut((out, len) => (keys ? this.engine.withStrings([keys.join('\n')], (k) =>
			M._gb_model_save_keys(this.h, f, k, out, len)) : M._gb_model_save(this.h, f, out, len)));
	}

	// A copy of the bytes a C call wrote: status = call(out, len) sets *out (a pointer) and *len
	// (a size_t: 4 bytes in wasm32).
	#bytesOut(call) {
		const { M } = this.engine;
		const pp = M._malloc(8);
		if (!pp) throw new Error('engine: out of memory');
		try {
			this.engine.check(call(pp, pp + 4));
			const [ptr, len] = new Uint32Array(this.engine.heap(), pp, 2);
			return new Uint8Array(this.engine.heap(), ptr, len).slice();
		} finally {
			M._free(pp);
		}
	}

	/**
	 * A new optimizer over the parameters that require grad now, in model.parameters() order:
	 * `optim.SGD(params, lr, momentum, dampening, weight_decay, nesterov)` or
	 * `optim.Adam(params, lr, betas, eps, weight_decay)`, with torch's defaults and its ValueError
	 * texts. Set it again after setRequiresGrad or replaceFc (they drop it).
	 * @param {{ type?: 'sgd' | 'adam', lr?: number, momentum?: number, dampening?: number,
	 *   weightDecay?: number, nesterov?: boolean, betas?: [number, number], eps?: number }} opts
	 */
	setOptimizer({ type = 'sgd', lr, momentum = 0, dampening = 0, weightDecay = 0, nesterov = false,
		betas = [0.9, 0.999], eps = 1e-8 } = {}) {
		if (type !== 'sgd' && type !== 'adam') throw new Error(`unknown optimizer '${type}' (use sgd or adam)`);
		const rate = lr ?? (type === 'adam' ? 1e-3 : undefined);
		if (typeof rate !== 'number') throw new Error('SGD needs a learning rate (lr)');
		this.engine.check(this.engine.M._gb_model_set_optimizer(this.h, CODES.optimizer[type], rate, momentum,
			dampening, weightDecay, nesterov ? 1 : 0, betas[0], betas[1], eps));
	}

	/**
	 * One training step with the optimizer of setOptimizer: zero_grad(set_to_none);
	 * loss = cross_entropy(model(x), targets); loss.backward(); optimizer.step().
	 * @returns {number} the loss (before the step)
	 */
	step(x, shape, targets) {
		return this.#withBatch(x, shape, targets, (xp, [N, , H, W], t) =>
			this.engine.M._gb_model_step(this.h, xp, N, H, W, t));
	}

	/**
	 * fc's input for x (N, 3, H, W): torch.flatten(avgpool(...), 1) under no_grad, in the
	 * model's mode; the very bits the full forward feeds fc.
	 * @returns {Float32Array} N × 512
	 */
	features(x, [N, , H, W]) {
		const { M } = this.engine;
		checkImages(x, [N, 3, H, W]);
		return this.engine.withFloats(null, N * 512, (out) => this.engine.withBytes(floatBytes(x), (xp) =>
			this.engine.check(M._gb_model_features(this.h, xp, N, H, W, out)))).floats;
	}

	/** Logits (N × classes) = model.fc(feats) under no_grad; feats N × 512. */
	headForward(feats, N, numClasses = this.numClasses) {
		const { M } = this.engine;
		if (feats.length !== N * 512) throw new Error(`headForward: ${N} feature rows need ${N * 512} values, not ${feats.length}`);
		return this.engine.withFloats(null, N * numClasses, (out) => this.engine.withBytes(floatBytes(feats), (fp) =>
			this.engine.check(M._gb_model_head_forward(this.h, fp, N, out)))).floats;
	}

	/**
	 * step() on cached features (N × 512): only when exactly fc.weight and fc.bias require
	 * grad; then the same bits as step() on the images with the backbone frozen in eval mode.
	 * @returns {number} the loss (before the step)
	 */
	headStep(feats, N, targets) {
		const { M } = this.engine;
		if (feats.length !== N * 512) throw new Error(`headStep: ${N} feature rows need ${N * 512} values, not ${feats.length}`);
		if (targets.length !== N) throw new Error(`headStep: ${N} rows need ${N} targets, not ${targets.length}`);
		const t = M._malloc(N * 4);
		try {
			new Int32Array(this.engine.heap(), t, N).set(targets);
			this.engine.withBytes(floatBytes(feats), (fp) => this.engine.check(M._gb_model_head_step(this.h, fp, N, t)));
		} finally {
			M._free(t);
		}
		return M._gb_model_last_loss(this.h);
	}

	/**
	 * How many images of the last step (step, headStep, trainStep, lossBackward) had their target
	 * as the highest logit: (logits.argmax(1) == targets).sum(), before the update.
	 */
	lastCorrect() {
		const r = this.engine.M._gb_model_last_correct(this.h);
		if (r < 0) this.engine.check(-r);
		return r;
	}

	/** Whether every parameter that requires grad and every running statistic is finite. */
	finite() {
		const r = this.engine.M._gb_model_finite(this.h);
		if (r < 0) this.engine.check(-r);
		return r === 1;
	}

	/** optimizer.state_dict()['state'] as safetensors bytes ('<param key>.momentum_buffer', …). */
	optimizerState() { return this.#bytesOut((out, len) => this.engine.M._gb_model_optimizer_state(this.h, out, len)); }

	/** Puts back optimizerState() bytes into the optimizer set now (same kind and parameters). */
	setOptimizerState(bytes) {
		const { M } = this.engine;
		this.engine.withBytes(bytes, (p) => this.engine.check(M._gb_model_set_optimizer_state(this.h, p, bytes.length)));
	}

	/** requires_grad for a module path ("" = everything, "layer4", "fc"). */
	setRequiresGrad(path, on) {
		this.engine.withStrings([path], (p) => this.engine.check(this.engine.M._gb_model_set_requires_grad(this.h, p, on ? 1 : 0)));
	}

	train(on = true) { this.engine.check(this.engine.M._gb_model_train_mode(this.h, on ? 1 : 0)); }

	/** model.fc = nn.Linear(512, n) after torch.manual_seed(seed). */
	replaceFc(n, seed = 0) {
		this.engine.check(this.engine.M._gb_model_replace_fc(this.h, n, seed));
		this.numClasses = n;
	}

	/** Logits (N × classes) for x (N, 3, H, W) as a Float32Array, under no_grad. */
	forward(x, [N, , H, W], numClasses) {
		const { M } = this.engine;
		return this.engine.withFloats(null, N * numClasses, (out) => this.engine.withBytes(floatBytes(x), (xp) =>
			this.engine.check(M._gb_model_forward(this.h, xp, N, H, W, out)))).floats;
	}

	/** One SGD step on cross_entropy(model(x), targets); returns the loss before the step. */
	trainStep(x, shape, targets, { lr = 1e-2, momentum = 0.9, weightDecay = 0 } = {}) {
		return this.#withBatch(x, shape, targets, (xp, [N, , H, W], t) =>
			this.engine.M._gb_model_train_step(this.h, xp, N, H, W, t, lr, momentum, weightDecay));
	}

	/** loss = cross_entropy(model(x), targets); zero_grad(); loss.backward(). Returns the loss. */
	lossBackward(x, shape, targets) {
		return this.#withBatch(x, shape, targets, (xp, [N, , H, W], t) =>
			this.engine.M._gb_model_loss_backward(this.h, xp, N, H, W, t));
	}

	// The C calls read N·3·H·W floats and N targets: check the lengths here, where they are known.
	#withBatch(x, shape, targets, call) {
		const { M } = this.engine;
		checkImages(x, shape);
		if (targets.length !== shape[0]) throw new Error(`${shape[0]} images need ${shape[0]} targets, not ${targets.length}`);
		const t = M._malloc(targets.length * 4);
		try {
			new Int32Array(this.engine.heap(), t, targets.length).set(targets);
			this.engine.withBytes(floatBytes(x), (xp) => this.engine.check(call(xp, shape, t)));
		} finally {
			M._free(t);
		}
		return M._gb_model_last_loss(this.h);
	}

	/** A copy of a state_dict tensor ('layer4.1.bn2.weight'), or of its .grad (null if none). */
	tensor(key, { grad = false } = {}) {
		const { M } = this.engine;
		const pp = M._malloc(4);
		try {
			const n = this.engine.withStrings([key], (k) => M._gb_model_tensor(this.h, k, grad ? 1 : 0, pp));
			if (n < 0) this.engine.check(-n);
			const ptr = new Uint32Array(this.engine.heap(), pp, 1)[0];
			return ptr ? new Float32Array(this.engine.heap(), ptr, n).slice() : null;
		} finally {
			M._free(pp);
		}
	}

	/**
	 * with torch.no_grad(): model.state_dict()[key].copy_(values): a parameter or a running
	 * statistic ('conv1.weight', 'bn1.running_var'), values in the tensor's row-major order.
	 * Throws for an unknown key, a wrong count, or num_batches_tracked (an int64).
	 */
	setTensor(key, values) {
		const { M } = this.engine;
		const f = values instanceof Float32Array ? values : Float32Array.from(values);
		this.engine.withStrings([key], (k) => this.engine.withBytes(floatBytes(f), (p) =>
			this.engine.check(M._gb_model_set_tensor(this.h, k, p, f.length))));
	}

	#json(fn) {
		const p = fn(this.h);
		if (!p) throw new Error(`engine: no JSON for model ${this.h} (disposed, or out of memory)`);
		return JSON.parse(this.engine.M.UTF8ToString(p));
	}

	/** print(model), children and fc printouts, the module tree (shapes for 1×3×224×224), memory. */
	info() { return this.#json(this.engine.M._gb_model_json); }

	/** What the last successful load read: {format, keys, report}; null before any load. */
	loadInfo() { return this.#json(this.engine.M._gb_model_load_info); }

	/** What the last forward / lossBackward / trainStep did and cost (docs §5); null before any. */
	stepInfo() { return this.#json(this.engine.M._gb_model_step_info); }

	dispose() { this.engine.M._gb_model_free(this.h); }
}
