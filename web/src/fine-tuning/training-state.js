// The training UI's state: one run at a time in the engine worker (the one part 2 started, shared
// through engineClient), its live progress, the run persisted with saveRun at every epoch, the
// features the worker computes stored with putFeatures, and the trained head kept in the worker
// for predictions and export (restored from the last run's checkpoint after a reload or after the
// worker died). Data comes from state.js only.
// Guarded by tests/e2e/studio-train.spec.mjs; its pure parts by tests/node/run-record.test.mjs.
import { signal } from '@preact/signals';
import { checkSettings, featureCache } from '../../../js/finetune-settings.mjs';
import { engineClient, onEngineRestart, startPartTwo, weights as backbone } from '../frozen-parameters/state.js';
import { project, images, runs, saveRun, imageBlob, classIndex, currentSplit, getFeatures, putFeatures } from './state.js';
import { newRun, applyEvent, markInterrupted, resumeFrom, addBatchPoint } from './run-record.js';
import { withTrainingLock, trainingSomewhere, TRAINING_ELSEWHERE } from './run-lock.js';

/** The run in progress: { runId, status, epoch, batch, batches, loss, etaMs, features } or null. */
export const live = signal(null);
/** The loss of each batch of the run in this tab: { runId, points: [{ x, loss }] } (not saved: the epochs are). */
export const batchLoss = signal({ runId: null, points: [] });
/** Why training could not start or stopped with an error: { message, field? } or null. */
export const trainProblem = signal(null);
/** The run whose head the worker holds (predictions, export): { runId, epoch } or null. */
export const headReady = signal(null);
/** How many of the project's images have cached features for the current settings: { cached, total }. */
export const featureCount = signal(null);

let call = null;              // the studio-train request in flight
let current = null;           // the Run it trains, as last saved
let saving = Promise.resolve();

/** Saves run snapshots one after another, so an older one never lands after a newer one. */
function persist(run) {
	saving = saving.then(() => saveRun(run)).catch(() => {});   // state.js reports storage problems
	return saving;
}

/** The engine client once part 2's engine runs with its weights. */
async function client() {
	await startPartTwo();
	const c = engineClient();
	if (!c) throw new Error('the engine did not start');
	return c;
}

/** The backbone's identity: its SHA-256, or the seed of torchvision's random init. */
const weightsId = () => backbone.value?.sha256 ?? `random-${backbone.value?.seed ?? 0}`;

/** The features cache key: weights / image / preprocessing (docs/fine-tuning.md §2). */
export function featureKey(meta, settings) {
	return `${weightsId()}/${meta.sha256}/${settings.keepWhole ? 'resize224' : 'resize256-crop224'}`;
}

/** The latest run of the project, or null. */
export function latestRun() {
	const all = runs.value ?? [];
	return all.length ? all[all.length - 1] : null;
}

/** Counts the images whose features are cached for `settings` (the "features: 187 / 200" line). */
export async function refreshFeatureCount() {
	const p = project.value;
	if (!p) return;
	const settings = checkSettings(p.settings ?? {});
	if (!featureCache(settings).on) {
		featureCount.value = null;
		return;
	}
	const list = images.value;
	let cached = 0;
	for (const meta of list) if (await getFeatures(featureKey(meta, settings))) cached += 1;
	featureCount.value = { cached, total: list.length };
}

/** After a reload: runs that were training are 'interrupted' (saved so), and the last head is loaded. */
export async function reopen() {
	const all = runs.value ?? [];
	// a run that another tab is training now is not interrupted: leave it to that tab
	const fixed = (await trainingSomewhere()) ? all : markInterrupted(all);
	for (let i = 0; i < all.length; i++) if (fixed[i] !== all[i]) await persist(fixed[i]);
	await restoreHead();
	await refreshFeatureCount().catch(() => {});
}

/** Loads the latest run's checkpoint into the worker's model, for predictions and export. */
export async function restoreHead() {
	const run = latestRun();
	if (!run?.checkpoint || call) return;
	try {
		const c = await client();
		await c.call('studio-restore', { settings: run.settings, classes: run.classes.map((k) => k.label), checkpoint: run.checkpoint });
		headReady.value = { runId: run.id, epoch: run.checkpoint.epoch };
		if (run.weights && run.weights !== weightsId()) {
			trainProblem.value = { message: 'This head was trained on other backbone weights than the ones loaded now: its predictions use the new backbone. Train again to match them.' };
		}
	} catch (err) {
		trainProblem.value = { message: `The last run's weights could not be loaded: ${err.message}` };
	}
}

onEngineRestart(async () => {
	headReady.value = null;
	await restoreHead();
});

async function itemsOf(list, settings, cacheOn, features) {
	const out = [];
	for (const meta of list) {
		const key = featureKey(meta, settings);
		if (cacheOn && !(key in features)) {
			const f = await getFeatures(key);
			if (f) features[key] = f;
		}
		out.push({ blob: await imageBlob(meta.id), label: classIndex(meta.classId), key });
	}
	return out;
}

/**
 * Trains a new head with the project's settings (or continues `from`, an interrupted run).
 * An invalid setting or too little data leaves everything as it was and says why.
 */
export async function startTraining(from = null) {
	if (call) return;
	trainProblem.value = null;
	const p = project.value;
	let settings;
	try {
		settings = checkSettings(from?.settings ?? p.settings ?? {});
	} catch (err) {
		trainProblem.value = { message: err.message, field: err.field };
		return;
	}
	const classes = from?.classes ?? p.classes;
	if (classes.length < 2) {
		trainProblem.value = { message: 'Add at least two classes to train a classifier.' };
		return;
	}
	const split = currentSplit();
	const empty = classes.filter((k) => !split.train.some((m) => m.classId === k.id));
	if (empty.length) {
		trainProblem.value = { message: `Every class needs training images; these have none: ${empty.map((k) => k.label).join(', ')}.` };
		return;
	}
	call = 'starting';   // a second click while the images are read does nothing
	// shown at once, before the lock is granted: the click has started something
	live.value = { status: 'preparing', epoch: from ? resumeFrom(from)?.epoch ?? 0 : 0, batch: 0, batches: 0, etaMs: null, features: null };
	try {
		if (!(await withTrainingLock(() => run(from, settings, classes, split)))) {
			trainProblem.value = { message: TRAINING_ELSEWHERE };
		}
	} finally {
		call = null;
		live.value = null;
		refreshFeatureCount().catch(() => {});
	}
}

/** One run in the worker: the images, the events saved as they come, the outcome saved. */
async function run(from, settings, classes, split) {
	const resume = from ? resumeFrom(from) : null;
	current = newRun({ projectId: project.value.id, settings, classes, from: resume ? from : null });
	current.weights ??= weightsId();   // the backbone it trains on, to warn when it changes
	const cacheOn = featureCache(settings).on;
	const features = {};
	live.value = { runId: current.id, status: 'preparing', epoch: resume?.epoch ?? 0, batch: 0, batches: 0, etaMs: null, features: null };
	if (batchLoss.value.runId !== current.id) batchLoss.value = { runId: current.id, points: [] };
	const onProgress = (ev) => {
		for (const [key, f] of ev.newFeatures ?? []) putFeatures(key, f).catch(() => {});
		const now = live.value ?? {};
		if (ev.type === 'batch') {
			live.value = { ...now, status: now.status === 'paused' ? 'paused' : 'running', epoch: ev.epoch, batch: ev.batch, batches: ev.batches, loss: ev.loss, etaMs: ev.etaMs };
			batchLoss.value = { runId: current.id, points: addBatchPoint(batchLoss.value.points, ev) };
		}
		else if (ev.type === 'features') live.value = { ...now, status: 'features', features: { done: ev.done, total: ev.total, cached: ev.cached } };
		else if (ev.type === 'epoch' || ev.type === 'diverged') {
			current = applyEvent(current, ev);
			persist(current);
		}
	};
	try {
		const c = await client();
		const payload = {
			settings, classes: classes.map((k) => k.label), resume,
			train: await itemsOf(split.train, settings, cacheOn, features),
			val: await itemsOf(split.val, settings, cacheOn, features),
			features,
		};
		const evalIds = (split.val.length ? split.val : split.train).map((m) => m.id);
		persist(current);
		headReady.value = null;
		call = c.call('studio-train', payload, { onProgress });
		const result = await call;
		const status = current.status === 'diverged' ? 'diverged' : result.status;
		const evaluation = result.evaluation ? { ...result.evaluation, ids: evalIds } : null;
		current = { ...current, status, evaluation };
		headReady.value = { runId: current.id, epoch: current.checkpoint?.epoch ?? null };
	} catch (err) {
		// the worker died (it is restarted; the run can resume from its last epoch) or refused the run
		current = { ...current, status: current.history.length ? 'interrupted' : 'stopped', message: err.message };
		trainProblem.value = { message: `Training stopped: ${err.message}` };
	} finally {
		await persist(current);
	}
}

async function control(action) {
	if (!call?.id) return;
	const c = await client();
	await c.call('studio-control', { action });
	const paused = action === 'pause';
	if (live.value) live.value = { ...live.value, status: paused ? 'paused' : 'running' };
	if (current && (current.status === 'running' || current.status === 'paused')) {
		current = { ...current, status: paused ? 'paused' : 'running' };
		persist(current);
	}
}

/** Pauses between two batches (the worker keeps the run). */
export const pauseTraining = () => control('pause');
/** Continues a paused run. */
export const resumeTraining = () => control('resume');

/** Stops the run at the next batch; the weights of the last finished epoch stay. */
export async function stopTraining() {
	if (!call?.id) return;
	const c = await client();
	c.cancel(call.id);
	await c.call('studio-control', { action: 'resume' });   // a paused loop wakes and sees the stop
}

/** True while a run is in the worker. */
export const isTraining = () => call !== null;

/** Class probabilities for an image (Blob or ImageBitmap) with the last trained head. */
export async function predict(image, opts = {}) {
	const c = await client();
	return c.call('studio-predict', { image }, opts);
}

/**
 * Evaluates the latest run's head again on the images as they are now (held-out ones, or all
 * training ones when none are held out) and saves the result with the run. The head's classes
 * must still be the project's: with classes added, removed or reordered, it says to train again.
 */
export async function evaluateNow() {
	const run = latestRun();
	if (!run || !headReady.value || call) return;
	trainProblem.value = null;
	const ids = (list) => list.map((k) => k.id).join('\n');
	if (ids(run.classes) !== ids(project.value.classes)) {
		trainProblem.value = { message: 'The classes changed since this head was trained: train again to evaluate it on them.' };
		return;
	}
	const split = currentSplit();
	const list = split.val.length ? split.val : split.train;
	const features = {};
	try {
		const items = await itemsOf(list, run.settings, featureCache(run.settings).on, features);
		const c = await client();
		const r = await c.call('studio-evaluate', { items, features, on: split.val.length ? 'val' : 'train' });
		for (const [key, f] of r.newFeatures ?? []) putFeatures(key, f).catch(() => {});
		await persist({ ...run, evaluation: { ...r.evaluation, ids: list.map((m) => m.id), at: Date.now() } });
	} catch (err) {
		trainProblem.value = { message: `The evaluation failed: ${err.message}` };
	}
}

/** The trained head or whole model as bytes PyTorch loads. */
export async function exportWeights(what, format) {
	const c = await client();
	const { bytes } = await c.call('studio-export', { what, format });
	return bytes;
}
