// finetune.mjs: the fine-tuning loop, shared by the page's engine worker and `gradbox finetune`,
// so both give the same head; it is PyTorch's loop (docs/fine-tuning.md §2):
//   for epoch in range(epochs):                      batches in DataLoader(shuffle=True,
//       for x, y in train_loader:                    generator=manual_seed(seed))'s order
//           optimizer.zero_grad(); loss = F.cross_entropy(model(x), y); loss.backward(); optimizer.step()
//       validate in eval mode; checkpoint
// With the backbone frozen in eval mode and no augmentation, each image's 512-d features are
// computed once (the cache) and the epochs train fc on them (model.headStep): the same numbers.
// Guarded by tests/node/finetune-loop.test.mjs (events, pause, stop, divergence, resume on a fake
// model) and tests/resnet/finetune-loop.test.mjs (the engine: resume, divergence, the cache).
import { featureCache } from './finetune-settings.mjs';
import { evaluateLogits, logitsOf, scoreLogits, stackInputs } from './finetune-eval.mjs';
import { seededRandom } from './preprocess.mjs';

export { evaluateLogits, scoreLogits, softmax } from './finetune-eval.mjs';

const FEATURES = 512;
const INPUT = [3, 224, 224];

/** The optimizer of the settings, as model.setOptimizer takes it (torch's SGD / Adam). */
export function optimizerOptions(s) {
	return s.optimizer === 'adam'
		? { type: 'adam', lr: s.lr, betas: [...s.betas], eps: s.eps, weightDecay: s.weightDecay }
		: { type: 'sgd', lr: s.lr, momentum: s.momentum, dampening: 0, weightDecay: s.weightDecay, nesterov: s.nesterov };
}

/**
 * The tutorial's recipe for the settings: freeze every parameter; torch.manual_seed(headSeed);
 * model.fc = nn.Linear(512, numClasses) (trainable); unfreeze layer4 or everything as asked;
 * BatchNorm's mode (model.train() or model.eval()); the optimizer over what requires grad.
 */
export function prepareModel(model, settings, numClasses) {
	model.setRequiresGrad('', false);
	model.replaceFc(numClasses, settings.headSeed);
	if (settings.unfreeze === 'all') model.setRequiresGrad('', true);
	else if (settings.unfreeze === 'layer4,fc') model.setRequiresGrad('layer4', true);
	model.train(settings.bnMode === 'train');
	model.setOptimizer(optimizerOptions(settings));
}

/**
 * The state_dict keys a checkpoint keeps (prefixes for model.save's keys): what trains, plus
 * every BatchNorm when BatchNorm is in train mode (its running statistics move then; its frozen
 * weight and bias come along, a few KB, so the list stays short: the engine takes 32 prefixes).
 * null when everything trains: the whole state_dict.
 */
export function checkpointKeys(model, settings) {
	if (settings.unfreeze === 'all') return null;
	const keys = settings.unfreeze === 'layer4,fc' ? ['layer4.', 'fc.'] : ['fc.'];
	if (settings.bnMode === 'train') {
		const walk = (m) => {
			if (m.type === 'BatchNorm2d' && !keys.some((k) => m.path.startsWith(k))) {
				keys.push(`${m.path}.`);
			}
			m.children?.forEach(walk);
		};
		walk(model.info().tree);
	}
	return keys;
}

/** A checkpoint: { weights: safetensors bytes of `keys` (null: all), optimizer: its state as safetensors }. */
export const snapshot = (model, keys) => ({ weights: model.save('safetensors', { keys }), optimizer: model.optimizerState() });

/** Puts a checkpoint back: its tensors (the rest keep their values) and the optimizer state. */
export function restore(model, checkpoint) {
	model.load(checkpoint.weights, { strict: false });
	model.setOptimizerState(checkpoint.optimizer);
}

/** Awaits pause(), or the abort of signal: a stop ends a pause at once. */
function paused(pause, signal) {
	if (!pause) return undefined;
	if (!signal) return pause();
	if (signal.aborted) return undefined;
	return new Promise((resolve, reject) => {
		const stop = () => resolve();
		signal.addEventListener('abort', stop, { once: true });
		Promise.resolve(pause()).then(resolve, reject).finally(() => signal.removeEventListener('abort', stop));
	});
}

/**
 * Each item's 512-d features (eval mode, under no_grad), from the cache when it has them, else
 * computed `batch` images at a time and stored. Emits { type: 'features', done, total, cached }.
 * @returns {Promise<Float32Array[]>}
 */
export async function computeFeatures({ model, items, features, batch = 8, onEvent = () => {}, signal, pause }) {
	const out = new Array(items.length);
	const missing = [];
	for (let i = 0; i < items.length; i++) {
		const f = items[i].featureKey != null ? await features?.get(items[i].featureKey) : undefined;
		if (f && f.length === FEATURES) out[i] = f; else missing.push(i);
	}
	const cached = items.length - missing.length;
	onEvent({ type: 'features', done: cached, total: items.length, cached });
	for (let b = 0; b < missing.length; b += batch) {
		await paused(pause, signal);
		if (signal?.aborted) return null;
		const idx = missing.slice(b, b + batch);
		const x = await stackInputs(idx.map((i) => items[i]), () => ({}));
		const f = model.features(x, [idx.length, ...INPUT]);
		for (let k = 0; k < idx.length; k++) {
			out[idx[k]] = f.slice(k * FEATURES, (k + 1) * FEATURES);
			if (items[idx[k]].featureKey != null) await features?.set(items[idx[k]].featureKey, out[idx[k]]);
		}
		onEvent({ type: 'features', done: cached + Math.min(b + batch, missing.length), total: items.length, cached });
	}
	return out;
}

const gather = (feats, idx) => {
	const x = new Float32Array(idx.length * FEATURES);
	idx.forEach((i, k) => x.set(feats[i], k * FEATURES));
	return x;
};

const range = (a, z) => Array.from({ length: z - a }, (_, i) => a + i);

/** What happened and what to try, in words, when training diverged. */
export function divergedMessage({ what, epoch, batch, value, restoredEpoch }, s) {
	const where = `in epoch ${epoch}, batch ${batch}`;
	const happened = what === 'loss' ? `The loss became ${value} ${where}` : `A weight became ${value} ${where}`;
	const back = restoredEpoch > 0 ? `the weights of epoch ${restoredEpoch} are back` : 'the weights from before training are back';
	const lr = s.lr / 10 >= 1e-6 ? `a smaller learning rate (lr ${s.lr} → ${+(s.lr / 10).toPrecision(3)})` : 'a smaller learning rate';
	return `${happened}: the steps were too large and training diverged; ${back}. Try ${lr}${s.optimizer === 'sgd' && s.momentum > 0 ? ', less momentum' : ''}${s.unfreeze !== 'fc' ? ', or training fc only' : ''}.`;
}

/**
 * Trains (docs/fine-tuning.md §2). `train`/`val`: [{ label, input(args) → Promise<Float32Array>,
 * featureKey }] in ImageFolder's order (class by class); with augmentation input gets
 * { epoch, rng } (a generator seeded by seed, epoch and the image). Events (onEvent): 'features',
 * 'batch' (epoch counts from 1), 'epoch' (after it: epoch finished epochs, checkpoint), 'diverged'.
 * resume: { epoch (finished epochs), checkpoint, history } after prepareModel.
 * @returns {Promise<{ status: 'done'|'stopped'|'diverged', epoch: number, history: object[],
 *   checkpoint: object, message?: string, diverged?: object, featureCache: {on, reason} }>}
 */
export async function train({ engine, model, settings: s, numClasses, train: items, val = [], features, resume, signal, pause, onEvent = () => {} }) {
	const cacheInfo = featureCache(s);
	const keys = checkpointKeys(model, s);
	const history = resume ? [...resume.history] : [];
	if (resume) restore(model, resume.checkpoint);
	let good = { epoch: resume?.epoch ?? 0, checkpoint: resume?.checkpoint ?? snapshot(model, keys) };
	const end = (status, extra = {}) => ({ status, epoch: good.epoch, history, checkpoint: good.checkpoint, featureCache: cacheInfo, ...extra });
	if (items.length === 0) throw new Error('no training images');
	let feats = null, valFeats = null;
	if (cacheInfo.on) {
		feats = await computeFeatures({ model, items: [...items, ...val], features, onEvent, signal, pause });
		if (!feats) return end('stopped');
		valFeats = feats.slice(items.length);
	}
	const n = items.length, bs = s.batchSize, batches = Math.ceil(n / bs);
	const t0 = Date.now();
	let done = 0;
	const total = (s.epochs - good.epoch) * batches;
	for (let epoch = good.epoch; epoch < s.epochs; epoch++) {
		const started = Date.now();
		model.train(s.bnMode === 'train');
		const order = engine.randperm(s.seed, n, epoch);
		let lossSum = 0, correct = 0;
		for (let b = 0; b < batches; b++) {
			await paused(pause, signal);
			if (signal?.aborted) return end('stopped');
			const idx = Array.from(order.subarray(b * bs, Math.min(n, (b + 1) * bs)));
			const targets = Int32Array.from(idx, (i) => items[i].label);
			let loss;
			if (feats) {
				loss = model.headStep(gather(feats, idx), idx.length, targets);
			} else {
				const x = await stackInputs(idx.map((i) => items[i]), (k) => (s.augment ? { epoch, rng: seededRandom(((s.seed * 1009 + epoch) * 100003 + idx[k]) % 2 ** 32) } : { epoch }));
				loss = model.step(x, [idx.length, ...INPUT], targets);
			}
			correct += model.lastCorrect();   // the batch's accuracy before its update, as a PyTorch loop counts it
			// The guard: a non-finite loss now, or a non-finite weight after the step. With the cache a
			// head step costs less than model.finite(), and a non-finite fc makes the next loss
			// non-finite: there the weights are checked once an epoch, before the checkpoint.
			const last = b === batches - 1;
			const bad = !Number.isFinite(loss) ? { what: 'loss', value: String(loss) }
				: (!feats || last) && !model.finite() ? { what: 'weights', value: 'NaN or infinite' } : null;
			if (bad) {
				restore(model, good.checkpoint);
				const ev = { type: 'diverged', epoch: epoch + 1, batch: b + 1, ...bad, restoredEpoch: good.epoch };
				onEvent(ev);
				return end('diverged', { diverged: ev, message: divergedMessage(ev, s) });
			}
			lossSum += loss * idx.length;
			done++;
			onEvent({ type: 'batch', epoch: epoch + 1, batch: b + 1, batches, loss, etaMs: Math.round(((Date.now() - t0) / done) * (total - done)) });
		}
		model.train(false);
		const valLogits = val.length ? await logitsOf({ model, items: val, numClasses, batchSize: bs, cache: valFeats && { feats: async (a, z) => gather(valFeats, range(a, z)) } }) : null;
		const v = valLogits ? scoreLogits(valLogits, Int32Array.from(val, (it) => it.label), numClasses) : null;
		const row = {
			epoch: epoch + 1, trainLoss: lossSum / n, trainAcc: correct / n,
			valLoss: v ? v.lossSum / val.length : null, valAcc: v ? v.correct / val.length : null, ms: Date.now() - started,
		};
		good = { epoch: epoch + 1, checkpoint: snapshot(model, keys) };
		history.push(row);
		onEvent({ type: 'epoch', ...row, checkpoint: good.checkpoint });
	}
	return end('done');
}

/**
 * The trained model on `items` (eval mode): per-class accuracy, the confusion matrix (rows true,
 * columns predicted), each image's prediction and probability, the 10 most confidently wrong.
 * Uses the feature cache when the settings allow it and `features` is given.
 */
export async function evaluate({ model, settings, numClasses, items, features, signal }) {
	model.train(false);
	let cache = null;
	if (features && featureCache(settings).on) {
		const f = await computeFeatures({ model, items, features, signal });
		cache = { feats: async (a, z) => gather(f, range(a, z)) };
	}
	const logits = await logitsOf({ model, items, numClasses, batchSize: settings.batchSize, cache, signal });
	return { ...evaluateLogits(logits, items, numClasses), logits };
}
