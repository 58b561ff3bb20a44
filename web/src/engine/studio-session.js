// The fine-tuning studio's side of the engine worker (docs/fine-tuning.md §3). It owns one more
// ResNet-18 in the same engine as part 2 (model-session.js holds two; the engine allows four),
// built from part 2's last good weights bytes (or its random seed), with a new head of N classes.
// Training is js/finetune.mjs's loop, the same one the command line runs; this file only feeds it
// decoded images, relays its events (batch events at most ~10 per second) and keeps the model for
// predictions and export.
//
// The features cache: the main thread owns it (IndexedDB, through state.js). A train request
// carries the features already known ({ key: Float32Array }); the worker keeps them in memory for
// the run and sends each new one back with the next progress message (`newFeatures`), where the
// page stores it with putFeatures. The worker stays the only user of the wasm heap.
// Guarded by tests/e2e/studio-train.spec.mjs (train, pause, stop, divergence, resume, export, restart).
import { CODES, topK } from '../../../js/engine.mjs';
import { prepareModel, train, evaluate, restore } from '../../../js/finetune.mjs';
import { prepareImage } from '../../../js/preprocess.mjs';
import { decode } from './decode.js';

const BATCH_EVENT_MS = 100;
// NOTE: a yield costs ~4 ms (setTimeout's clamp), while a head step on cached features costs
// ~0.05 ms: yielding every batch made a head epoch on 1,000 images 250 ms instead of 4. The loop
// yields when 15 ms of work have passed instead, so pause and stop still answer within a frame.
const YIELD_MS = 15;

/** Yields to the worker's event loop, so control and cancel messages are read between batches. */
const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

export class StudioSession {
	static TYPES = new Set(['studio-prepare', 'studio-train', 'studio-control', 'studio-predict', 'studio-export', 'studio-restore', 'studio-evaluate']);

	static handles(type) {
		return StudioSession.TYPES.has(type);
	}

	/**
	 * @param {import('../../../js/engine.mjs').Engine} eng the full module
	 * @param {import('./model-session.js').ModelSession} models part 2's session: its weights are the backbone's
	 */
	constructor(eng, models) {
		this.eng = eng;
		this.models = models;
		this.model = null;          // the studio's ResNet-18 (trained head), or null before any run
		this.head = null;           // { classes: string[], settings } the model was built for
		this.training = false;
		this.paused = false;
		this.wakers = [];
		this.lastYield = 0;
	}

	async handle(type, payload, ctx) {
		switch (type) {
		case 'studio-prepare': return this.prepare(payload);
		case 'studio-train': return this.train(payload, ctx);
		case 'studio-control': return this.control(payload.action);
		case 'studio-predict': return this.predict(payload.image);
		case 'studio-export': return this.export(payload);
		case 'studio-restore': return this.restore(payload);
		case 'studio-evaluate': return this.evaluateNow(payload);
		default: throw new Error(`unknown message type ${type}`);
		}
	}

	/** A fresh model: part 2's weights, then prepareModel (freeze, new fc, BatchNorm mode, optimizer). */
	build(settings, classes) {
		const { eng, models } = this;
		this.model?.dispose();
		this.model = null;
		this.head = null;
		const m = eng.model(1000, models.randomSeed ?? 0);
		try {
			if (models.weights) m.load(models.weights.bytes);
			prepareModel(m, settings, classes.length);
		} catch (err) {
			m.dispose();
			throw err;
		}
		this.model = m;
		this.head = { classes, settings };
		return m;
	}

	/**
	 * Decodes and preprocesses an image: the run's crop or the whole picture; augmented only when
	 * the loop asks for it (`opts` { augment, rng } from js/finetune.mjs).
	 */
	async tensorOf(image, settings, opts = {}) {
		const { rgba, width, height } = await decode(image);
		const tensor = prepareImage(this.eng, rgba, width, height, { channels: 4, keepWhole: !!settings.keepWhole, augment: false, ...opts });
		return { width, height, tensor };
	}

	async prepare({ image, keepWhole = false }) {
		const { width, height, tensor } = await this.tensorOf(image, { keepWhole });
		return { width, height, tensor, transfer: [tensor.buffer] };
	}

	control(action) {
		if (action === 'pause') this.paused = true;
		else if (action === 'resume') {
			this.paused = false;
			for (const wake of this.wakers.splice(0)) wake();
		} else throw new Error(`studio-control: action must be 'pause' or 'resume', not ${JSON.stringify(action)}`);
		return { paused: this.paused, training: this.training };
	}

	/** Awaited by the loop between batches: yields (every YIELD_MS of work), then waits while paused. */
	async pause() {
		if (performance.now() - this.lastYield >= YIELD_MS) {
			await tick();
			this.lastYield = performance.now();
		}
		while (this.paused) await new Promise((resolve) => this.wakers.push(resolve));
	}

	/**
	 * Runs js/finetune.mjs's train() on the images of the request, then evaluates the head on
	 * the validation images (the training images when none are held out).
	 */
	async train({ settings, classes, train: trainItems, val: valItems, resume = null, features = {} }, { signal, progress }) {
		if (this.training) throw new Error('a run is already training: stop it first');
		if (!Array.isArray(classes) || classes.length < 2) throw new Error('training needs at least two classes');
		if (!trainItems?.length) throw new Error('there are no training images');
		this.training = true;
		this.paused = false;
		const cache = new Map(Object.entries(features));
		let fresh = [];
		const store = { get: (key) => cache.get(key), set: (key, f) => { cache.set(key, f); fresh.push([key, f]); } };
		const items = (list) => this.items(list, settings);
		let lastBatch = 0;
		const post = (event) => {
			const newFeatures = fresh;
			fresh = [];
			progress({ ...event, newFeatures });
		};
		const onEvent = (event) => {
			if (event.type === 'batch') {
				const now = performance.now();
				if (now - lastBatch < BATCH_EVENT_MS && event.batch < event.batches) return;
				lastBatch = now;
			}
			post(event);
		};
		let outcome;
		try {
			const model = this.build(settings, classes);
			const trainSet = items(trainItems), valSet = items(valItems ?? []);
			const result = await train({
				engine: this.eng, model, settings, numClasses: classes.length, train: trainSet, val: valSet,
				features: store, resume, signal, pause: () => this.pause(), onEvent,
			});
			// a stop mid-epoch goes back to the last finished epoch: the head the run saved
			if (result.status === 'stopped') restore(model, result.checkpoint);
			model.train(false);   // predictions and evaluation use the running statistics
			const evaluation = await this.evaluation(valSet.length ? valSet : trainSet, store, valSet.length ? 'val' : 'train');
			outcome = { status: result.status, epoch: result.epoch, message: result.message, evaluation };
		} catch (err) {
			if (err?.name !== 'AbortError' || !this.model) throw err;
			this.model.train(false);
			outcome = { status: 'stopped' };
		} finally {
			this.training = false;
			this.paused = false;
			if (fresh.length) post({ type: 'features-flush' });
		}
		return outcome;
	}

	/** The loop's items for [{ blob, label, key }]: decoded and preprocessed when the loop asks. */
	items(list, settings) {
		return list.map(({ blob, label, key }) => ({
			label, featureKey: key,
			input: async (opts) => (await this.tensorOf(blob, settings, opts)).tensor,
		}));
	}

	/** finetune.mjs's evaluate() on items, kept small for IndexedDB (no logits, no probabilities). */
	async evaluation(items, features, on) {
		const { classes, settings } = this.head;
		const ev = await evaluate({ model: this.model, settings, numClasses: classes.length, items, features });
		return {
			on, perClass: ev.perClass, confusion: ev.confusion, accuracy: ev.accuracy,
			predictions: ev.predictions.map(({ label, predicted, p }) => ({ label, predicted, p })),
		};
	}

	/** Evaluates the trained head on demand (the images as they are now), features from the cache when allowed. */
	async evaluateNow({ items, on = 'val', features = {} }) {
		this.ready();
		if (!items?.length) throw new Error('there are no images to evaluate');
		const cache = new Map(Object.entries(features));
		const fresh = [];
		const store = { get: (key) => cache.get(key), set: (key, f) => { cache.set(key, f); fresh.push([key, f]); } };
		const evaluation = await this.evaluation(this.items(items, this.head.settings), store, on);
		return { evaluation, newFeatures: fresh };
	}

	/**
	 * After a reload: the model of a run that ended or was interrupted, from its checkpoint
	 * (the head and, when more trained, the rest of what trained), for predictions and export.
	 */
	async restore({ settings, classes, checkpoint }) {
		if (this.training) throw new Error('a run is training: it keeps its own model');
		const m = this.build(settings, classes);
		if (checkpoint?.bytes) m.load(checkpoint.bytes, { strict: false });
		m.train(false);
		return { restored: true, epoch: checkpoint?.epoch ?? null };
	}

	ready() {
		if (!this.model) throw new Error('there is no trained head yet: train one first');
		if (this.training) throw new Error('the head is training: predictions resume when the run stops');
		return this.model;
	}

	/** Class probabilities for one image (a Blob, or an ImageBitmap from the webcam), with the run's preprocessing. */
	async predict(image) {
		const m = this.ready();
		const { classes, settings } = this.head;
		const tp = performance.now();
		const { tensor } = await this.tensorOf(image, settings);
		const t0 = performance.now();
		const logits = m.forward(tensor, [1, 3, 224, 224], classes.length);
		const ms = performance.now() - t0;
		const prepMs = t0 - tp;   // decode, resize, crop, normalise
		const top = topK(logits, classes.length, classes.length, classes)[0];
		const probs = new Array(classes.length);
		for (const { index, p } of top) probs[index] = p;
		return { probs, top, ms, prepMs, logits: Array.from(logits) };
	}

	/** Frees the model (the engine holds at most four). */
	dispose() {
		this.model?.dispose();
		this.model = null;
		this.head = null;
	}

	/** The trained head (fc.weight, fc.bias) or the whole state_dict, as .safetensors or .pth bytes. */
	export({ what, format }) {
		const m = this.ready();
		if (!Object.hasOwn(CODES.format, format)) throw new Error(`format must be 'safetensors' or 'pth', not ${JSON.stringify(format)}`);
		if (!['head', 'model'].includes(what)) throw new Error(`what must be 'head' or 'model', not ${JSON.stringify(what)}`);
		const bytes = what === 'head' ? m.save(format, { keys: ['fc.'] }) : m.save(format);
		return { bytes, transfer: [bytes.buffer] };
	}
}
