// finetune-recipe.mjs: gen_finetune_fixtures.py's training recipe, run on the engine: the same
// model, head, freezing, mode, optimizer and DataLoader order, by images (model.step) or on cached
// features (model.headStep). Shared by finetune-engine.test.mjs's cases.

export const headKeys = ['fc.weight', 'fc.bias'];

/** The recipe's optimizer settings as model.setOptimizer takes them. */
export function optimizerOf(o) {
	return o.type === 'sgd'
		? { type: 'sgd', lr: o.lr, momentum: o.momentum, weightDecay: o.weight_decay, nesterov: !!o.nesterov }
		: { type: 'adam', lr: o.lr, weightDecay: o.weight_decay };
}

/** load; freeze all; manual_seed(head_seed); fc = Linear(512, C); unfreeze; mode; optimizer. */
export function makeModel({ eng, manifest, weights }, c) {
	const model = eng.model(1000, 0);
	model.load(weights);
	model.setRequiresGrad('', false);
	model.replaceFc(manifest.C, manifest.head_seed);
	for (const u of c.unfreeze) model.setRequiresGrad(u, true);
	model.train(c.mode === 'train');
	model.setOptimizer(optimizerOf(c.optim));
	return model;
}

/** Rows `idx` of a row-major array with `per` values a row. */
export function gather(data, idx, per, Ctor = Float32Array) {
	const out = new Ctor(idx.length * per);
	idx.forEach((r, i) => out.set(data.subarray(r * per, (r + 1) * per), i * per));
	return out;
}

/**
 * Epochs `from`..`to - 1` of the recipe on `model`: for each epoch DataLoader's order, in
 * batches of manifest.batch, one step each. `feats` (the cache, N × 512) selects headStep on
 * its rows.
 * @returns {Float32Array} the loss of every batch
 */
export function trainEpochs({ eng, manifest, X, Y }, model, from, to, feats = null) {
	const { N, size: S, batch, loader_seed: seed } = manifest;
	const losses = [];
	for (let e = from; e < to; e++) {
		const order = eng.randperm(seed, N, e);
		for (let b = 0; b < N; b += batch) {
			const idx = order.subarray(b, Math.min(N, b + batch));
			const y = gather(Y, idx, 1, Int32Array);
			losses.push(feats ? model.headStep(gather(feats, idx, 512), idx.length, y)
				: model.step(gather(X, idx, 3 * S * S), [idx.length, 3, S, S], y));
		}
	}
	return Float32Array.from(losses);
}

/** The whole recipe for case `c`; `cached`: features of all N images computed once, then
 * headStep on their rows; else step() on the images. */
export function runRecipe(ctx, c, { cached }) {
	const { N, size: S } = ctx.manifest;
	const model = makeModel(ctx, c);
	const feats = cached ? model.features(ctx.X, [N, 3, S, S]) : null;
	const losses = trainEpochs(ctx, model, 0, c.epochs, feats);
	return { model, losses };
}

/** The float32 tensors of a safetensors file: {key: Float32Array} (0-d as one value). */
export function readSafetensors(bytes) {
	const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
	const n = Number(view.getBigUint64(0, true));
	const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
	const out = {};
	for (const [key, entry] of Object.entries(header)) {
		if (key === '__metadata__') continue;
		const { dtype, data_offsets: [b, e] } = entry;
		if (dtype !== 'F32') throw new Error(`${key}: ${dtype}, expected F32`);
		out[key] = new Float32Array(bytes.slice(8 + n + b, 8 + n + e).buffer);
	}
	return out;
}
