// The ResNet-18 lesson's side of the engine worker. It holds two models:
//   imagenet  the weights as loaded, 1000-class head (the "see what the model
//             sees" classifier), never trained or frozen;
//   tutorial  the notebook's model after its cells: the same weights, every
//             parameter frozen, `model.fc = nn.Linear(512, N)` after
//             torch.manual_seed(seed), then the learner's freeze toggles.
// and the bytes of the last weights file that loaded, so the tutorial model can
// be rebuilt (a new head size needs the 1000-class file loaded first).
import { MAX_CLASSES, topK } from '../../../js/engine.mjs';
import { decode } from './decode.js';
import { cachedWeights, downloadWeights, forgetCached, remember, sha256 } from './weights-fetch.js';

export class ModelSession {
	static TYPES = new Set(['model-start', 'weights-url', 'weights-bytes', 'weights-random', 'weights-forget-cache',
		'model-freeze', 'model-head', 'model-classify', 'model-grads', 'model-bn-trap']);

	static handles(type) {
		return ModelSession.TYPES.has(type);
	}

	/** @param {import('../../../js/engine.mjs').Engine} eng the full module */
	constructor(eng) {
		this.eng = eng;
		this.imagenet = null;
		this.tutorial = null;
		this.weights = null;          // { bytes, meta } of the last good load, or null (random init)
		this.randomSeed = 0;
		this.head = { n: 10, seed: 0 };
		this.trainable = null;        // parameter names that require grad; null = the tutorial's (fc only)
		this.childrenRepr = null;     // In[21]'s printout: the architecture's, whatever the weights
	}

	async handle(type, payload, ctx) {
		switch (type) {
		case 'model-start': return this.start(payload);
		case 'weights-url': return this.loadUrl(payload, ctx);
		case 'weights-bytes': return this.loadBytes(new Uint8Array(payload.bytes), { source: 'file', name: payload.name });
		case 'weights-random': return this.loadRandom(payload.seed ?? 0);
		case 'weights-forget-cache': await forgetCached(); return { forgotten: true };
		case 'model-freeze': return this.freeze(payload.trainable);
		case 'model-head': return this.replaceHead(payload.n, payload.seed);
		case 'model-classify': return this.classify(payload.image);
		case 'model-grads': return this.grads(payload.image, payload.target ?? 0);
		case 'model-bn-trap': return this.bnTrap(payload.image, payload.layer ?? 'bn1');
		default: throw new Error(`unknown message type ${type}`);
		}
	}

	/**
	 * Both models with torchvision's random init (seed), which the engine draws
	 * only when a model is used before weights are loaded into it.
	 */
	start({ seed = 0 } = {}) {
		if (!this.imagenet) {
			this.randomSeed = seed;
			this.imagenet = this.eng.model(1000, seed);
			this.childrenRepr ??= this.imagenet.info().children_repr;
			this.rebuildTutorial();
		}
		return this.snapshot();
	}

	/** The tutorial's cells on a fresh model: weights, new head, then the freeze state (applyFreeze). */
	rebuildTutorial() {
		this.tutorial?.dispose();
		this.tutorial = null;
		const m = this.eng.model(1000, this.randomSeed);
		try {
			if (this.weights) m.load(this.weights.bytes);
			m.replaceFc(this.head.n, this.head.seed);
			m.train(false);
		} catch (err) {
			m.dispose();
			throw err;
		}
		this.tutorial = m;
		this.applyFreeze();
	}

	/** The learner's freeze state, or the tutorial's (every parameter frozen, then a new fc, which trains). */
	applyFreeze() {
		this.tutorial.setRequiresGrad('', false);
		for (const name of this.trainable ?? ['fc']) this.tutorial.setRequiresGrad(name, true);
	}

	async loadUrl({ url }, { signal, progress }) {
		const cached = await cachedWeights(url);
		const bytes = cached ?? await downloadWeights(url, { signal, progress });
		const result = await this.loadBytes(bytes, { source: cached ? 'cache' : 'network', url });
		if (!cached) result.weights.cacheProblem = await remember(url, bytes);
		return result;
	}

	/**
	 * Loads a weights file into both models, strictly. A file that does not
	 * load leaves both models as they were (the engine copies nothing then).
	 */
	async loadBytes(bytes, meta) {
		if (!this.imagenet) this.start();
		this.imagenet.load(bytes);                 // throws PyTorch's message; nothing changed
		const info = this.imagenet.loadInfo();
		const previous = this.weights;
		this.weights = { bytes, meta };
		try {
			this.rebuildTutorial();
		} catch (err) {
			this.weights = previous;
			if (previous) this.imagenet.load(previous.bytes);
			throw err;
		}
		const weights = { ...meta, bytes: bytes.length, sha256: await sha256(bytes), ...info };
		this.weightsInfo = weights;
		return { weights, ...this.snapshot() };
	}

	loadRandom(seed) {
		this.imagenet?.dispose();
		this.imagenet = null;
		this.weights = null;
		this.start({ seed });
		this.weightsInfo = { source: 'random', seed };
		return { weights: this.weightsInfo, ...this.snapshot() };
	}

	/** The tutorial model as the page shows it: printouts, tree, totals, weights. */
	snapshot() {
		return {
			tutorial: this.tutorial.info(),
			children_repr: this.childrenRepr,   // In[21] prints the model before its head is replaced
			head: this.head,
			trainable: this.trainable,
			weights: this.weightsInfo ?? { source: 'random', seed: this.randomSeed },
		};
	}

	freeze(trainable) {
		this.trainable = trainable ?? null;
		this.applyFreeze();
		return this.snapshot();
	}

	replaceHead(n, seed) {
		if (!Number.isInteger(n) || n < 1 || n > MAX_CLASSES) throw new Error(`out_features must be a whole number from 1 to ${MAX_CLASSES}, not ${n}`);
		if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`the seed must be a whole number from 0 to 2^53 − 1, not ${seed}`);
		const before = this.head;
		this.head = { n, seed };
		// names of the old head stay valid (fc.weight, fc.bias)
		try {
			this.rebuildTutorial();
		} catch (err) {
			this.head = before;
			this.rebuildTutorial();
			throw err;
		}
		return this.snapshot();
	}

	/** Decodes and preprocesses an image as torchvision's Resize(256), CenterCrop(224), ToTensor, Normalize. */
	async prepare(image) {
		const { rgba, width, height } = await decode(image);
		return { source: { width, height }, ...this.eng.preprocess(rgba, width, height, { channels: 4 }) };
	}

	async classify(image) {
		const pre = await this.prepare(image);
		const t0 = performance.now();
		const logits = this.imagenet.forward(pre.tensor, [1, 3, 224, 224], 1000);
		const forwardMs = performance.now() - t0;
		const top = topK(logits, 1000, 5)[0];
		const { resized, cropped, tensor } = pre;
		const stats = channelStats(tensor);
		return {
			top, forwardMs, source: pre.source, stats,
			resized, cropped,
			sample: Array.from(tensor.subarray(0, 8)),   // tensor[0, 0, 0, :8]
			transfer: [resized.rgb.buffer, cropped.rgb.buffer],
		};
	}

	/**
	 * loss = cross_entropy(model(x), target); zero_grad(set_to_none=True);
	 * loss.backward(), with the learner's freeze state and, for the cost, with
	 * everything trainable (that one first, so the tree shows the learner's).
	 */
	async grads(image, target) {
		const { tensor } = await this.prepare(image);
		const shape = [1, 3, 224, 224];
		if (!Number.isInteger(target) || target < 0 || target >= this.head.n) throw new Error(`the target must be a class index from 0 to ${this.head.n - 1}`);
		const m = this.tutorial;
		m.setRequiresGrad('', true);
		m.lossBackward(tensor, shape, [target]);
		const everything = m.stepInfo();
		this.applyFreeze();
		const loss = m.lossBackward(tensor, shape, [target]);
		return { loss, target, step: m.stepInfo(), everything, after: m.info() };
	}

	/**
	 * The BatchNorm trap: a train-mode forward updates running_mean/var (and
	 * num_batches_tracked) even with every parameter frozen; an eval-mode one
	 * does not. The tutorial model is rebuilt afterwards, so the lesson's model
	 * is exactly as it was.
	 */
	async bnTrap(image, layer) {
		const { tensor } = await this.prepare(image);
		const m = this.tutorial;
		const keys = [`${layer}.running_mean`, `${layer}.running_var`];
		const read = () => Object.fromEntries(keys.map((k) => [k.split('.').pop(), Array.from(m.tensor(k))]));
		try {
			const before = read();
			m.train(true);
			m.forward(tensor, [1, 3, 224, 224], this.head.n);
			const afterTrain = read();
			m.train(false);
			m.forward(tensor, [1, 3, 224, 224], this.head.n);
			const afterEval = read();
			return { layer, before, afterTrain, afterEval };
		} finally {
			this.rebuildTutorial();
		}
	}
}

/** Per-channel mean and std of a (3, H, W) tensor, to show what Normalize did. */
function channelStats(t) {
	const plane = t.length / 3;
	return [0, 1, 2].map((c) => {
		let s = 0, s2 = 0, min = Infinity, max = -Infinity;
		for (let i = c * plane; i < (c + 1) * plane; i++) {
			const v = t[i];
			s += v;
			s2 += v * v;
			if (v < min) min = v;
			if (v > max) max = v;
		}
		const mean = s / plane;
		return { mean, std: Math.sqrt(Math.max(0, s2 / plane - mean * mean)), min, max };
	});
}
