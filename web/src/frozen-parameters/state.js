// Part 2's state: the full engine in its own worker, the weights, the
// tutorial model's snapshot (printouts, layer tree, totals) and the results of
// the experiments. Every engine call goes through `act`, which keeps the last
// good snapshot on screen when a call fails and says what went wrong.
import { signal, computed } from '@preact/signals';
import { EngineClient } from '../engine/client.js';
import { forcedBuild } from '../engine/lesson-engine.js';

/** torchvision's ResNet-18 ImageNet weights (IMAGENET1K_V1) as safetensors on the Hugging Face hub. */
export const DEFAULT_WEIGHTS_URL = 'https://huggingface.co/timm/resnet18.tv_in1k/resolve/main/model.safetensors';

/** `?weights=<url>` points the page at another weights file (tests use a local server). */
export const initialWeightsUrl = new URLSearchParams(location.search).get('weights') || DEFAULT_WEIGHTS_URL;

/** 'starting' → 'downloading' → 'ready'; 'failed' when the engine itself could not start. */
export const phase = signal('starting');
/** The full engine's build info. */
export const modelEngineInfo = signal(null);
/** Download progress { loaded, total, bytesPerSecond } while a URL is being fetched. */
export const progress = signal(null);
/** The loaded weights: { source: 'network'|'cache'|'file'|'random', url?, name?, bytes, sha256, keys, format, report }. */
export const weights = signal(null);
/** Why the backbone is untrained (the download failed), or null. */
export const fallbackReason = signal(null);
/** The last weights file that was refused (the model that was loaded stays): { name, message }. */
export const weightsProblem = signal(null);
/** The tutorial model: { tutorial: model JSON, children_repr, head: {n, seed}, trainable }. */
export const snapshot = signal(null);
/** A failed experiment or setting: { what, message }. */
export const actionProblem = signal(null);
/** True while the engine works on a request the learner made. */
export const busy = signal(false);

/** The model's tree (module JSON of the tutorial model). */
export const tree = computed(() => snapshot.value?.tutorial?.tree ?? null);

let client = null;
let download = null;

/** The engine restarted after its worker died: { message } for the learner, or null. */
export const engineRestart = signal(null);
/** Called (awaited) after a restart once the weights are back: the studio reloads its run. */
const restartListeners = new Set();
let lastFile = null;
let deaths = [];

function startEngine() {
	client = new EngineClient({ onDeath: (message) => { restartAfterDeath(message); } });
	return client.init({ build: forcedBuild, module: 'full' });
}

/**
 * A worker that dies (out of memory, a trap) is replaced by a new one with the same weights, head
 * and freeze state, and the listeners (the studio) reload what they had; nothing in IndexedDB is
 * touched. More than three deaths in a minute stop the retries. Guarded by studio-train.spec.mjs.
 */
async function restartAfterDeath(message) {
	const now = Date.now();
	deaths = deaths.filter((t) => now - t < 60_000).concat([now]);
	client?.terminate();
	if (deaths.length > 3) {
		phase.value = 'failed';
		actionProblem.value = { what: 'engine', message: `the engine stopped again (${message}); reload the page to start it again` };
		return;
	}
	const before = { w: weights.value, head: snapshot.value?.head, trainable: snapshot.value?.trainable };
	engineRestart.value = { message: `The engine stopped (${message}) and is restarting…`, state: 'restarting' };
	try {
		modelEngineInfo.value = await startEngine();
		snapshot.value = await client.call('model-start', { seed: 0 });
		if (before.w?.source === 'file' && lastFile) await loadFromFile(lastFile);
		else if (before.w?.source === 'random') await loadRandom(before.w.seed);
		else await loadFromUrl(before.w?.url ?? initialWeightsUrl);
		if (before.head && (before.head.n !== 10 || before.head.seed !== 0)) await replaceHead(before.head.n, before.head.seed);
		if (before.trainable) await setTrainable(before.trainable);
		for (const listener of restartListeners) await listener();
		engineRestart.value = { message: `The engine stopped (${message}); it was restarted and your project reloaded. Nothing you saved was lost.`, state: 'restarted' };
	} catch (err) {
		phase.value = 'failed';
		engineRestart.value = { message: `The engine stopped (${message}) and could not restart: ${err.message}. Reload the page.`, state: 'failed' };
	}
}

/** Registers fn to run after the engine was restarted; returns the unregister function. */
export function onEngineRestart(fn) {
	restartListeners.add(fn);
	return () => restartListeners.delete(fn);
}

/** The full engine's client (shared with the studio), once startPartTwo has run; the current one after a restart. */
export function engineClient() {
	return client;
}

/**
 * Runs one engine request for the learner: the snapshot it returns replaces
 * the shown one; a failure is reported and changes nothing on screen.
 */
export async function act(what, type, payload = {}, opts = {}) {
	busy.value = true;
	actionProblem.value = null;
	try {
		const result = await client.call(type, payload, opts);
		if (result?.tutorial) snapshot.value = result;
		return result;
	} catch (err) {
		actionProblem.value = { what, message: err.message };
		throw err;
	} finally {
		busy.value = false;
	}
}

/** Downloads (or takes from Cache Storage) the weights at `url`; falls back to random weights on failure. */
export async function loadFromUrl(url) {
	progress.value = { loaded: 0, total: null, bytesPerSecond: 0 };
	phase.value = 'downloading';
	download = client.call('weights-url', { url }, { onProgress: (p) => (progress.value = p) });
	try {
		const result = await download;
		snapshot.value = result;
		weights.value = result.weights;
		fallbackReason.value = null;
		weightsProblem.value = null;
	} catch (err) {
		if (err.name === 'AbortError') fallbackReason.value = 'the download was cancelled';
		else if (weights.value && weights.value.source !== 'random') weightsProblem.value = { name: url, message: err.message };
		else fallbackReason.value = err.message;
	} finally {
		download = null;
		progress.value = null;
		phase.value = 'ready';
	}
}

/** Stops the running download. */
export function cancelDownload() {
	if (download) client.cancel(download.id);
}

/** Loads a file the learner dropped or picked; a refused file leaves the loaded model in place. */
export async function loadFromFile(file) {
	weightsProblem.value = null;
	try {
		const bytes = await file.arrayBuffer();
		const result = await act('weights', 'weights-bytes', { bytes, name: file.name }, { transfer: [bytes] });
		weights.value = result.weights;
		fallbackReason.value = null;
		lastFile = file;
	} catch (err) {
		actionProblem.value = null;
		weightsProblem.value = { name: file.name, message: err.message };
	}
}

/** Forgets the weights kept in Cache Storage (the next visit downloads them again). */
export async function forgetCache() {
	await act('weights', 'weights-forget-cache');
	if (weights.value) weights.value = { ...weights.value, forgotten: true };
}

/** Seeded random weights (torchvision's init after torch.manual_seed(seed)). */
export async function loadRandom(seed = 0) {
	const result = await act('weights', 'weights-random', { seed });
	weights.value = result.weights;
}

let starting = null;

/**
 * Starts the engine and loads the weights, once: part 2 and the studio both call it, and both
 * get the same promise.
 */
export function startPartTwo() {
	starting ??= startOnce();
	return starting;
}

async function startOnce() {
	try {
		modelEngineInfo.value = await startEngine();
		snapshot.value = await client.call('model-start', { seed: 0 });
		weights.value = snapshot.value.weights;
	} catch (err) {
		phase.value = 'failed';
		actionProblem.value = { what: 'engine', message: err.message };
		return;
	}
	await loadFromUrl(initialWeightsUrl);
}

/** Sets which parameters require grad (names), or the tutorial's state (null). */
export function setTrainable(names) {
	return act('freeze', 'model-freeze', { trainable: names }).catch(() => {});
}

/** model.fc = nn.Linear(512, n) after torch.manual_seed(seed). */
export function replaceHead(n, seed) {
	return act('head', 'model-head', { n, seed });
}
