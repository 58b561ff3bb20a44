// state.js: the studio's data as signals, and the actions that change it. The only module the
// components import for data (docs/fine-tuning.md). Every action writes IndexedDB first (one
// transaction) and only then changes the signals, so what the page shows is what a reload brings
// back; a failed write sets `storageProblem` and throws the StorageError (the signals keep the
// saved state). Guarded by tests/e2e/studio-data.spec.mjs (reload, quota, move/remove).
import { signal } from '@preact/signals';
import { checkSettings, splitStratified } from '../../../js/finetune-settings.mjs';
import { StorageError, loadProject, readImageField, readFeatures, writeFeatures, writeTx, replaceProject, imageMeta } from './project-db.js';
import { inspectAll } from './intake.js';
import { thumbUrl, forgetThumbs } from './thumbs.js';

export { thumbUrl };
import { checkLabel, freshProject, newId, sortImages } from './project-model.js';

export { checkLabel, LabelError } from './project-model.js';

const PROJECT_ID = 'default';

/** { id, name, classes: [{ id, label }], settings, updatedAt } | null while loading */
export const project = signal(null);
/** ImageMeta[] in display order (class by class, then addedAt) */
export const images = signal([]);
/** { message } | null: a quota error or failed write, shown on the page */
export const storageProblem = signal(null);
/** Run[] of the project, oldest first */
export const runs = signal([]);
/** The gallery dialog: { title, ids } | null (openImagesById) */
export const gallery = signal(null);
/** Files being checked: { done, total } | null */
export const intakeProgress = signal(null);

let loading = null;
let queue = Promise.resolve();
let lastAddedAt = 0;

/** Runs actions one after another, so each sees the state the previous one saved. */
function serial(fn) {
	const p = queue.then(fn);
	queue = p.catch(() => {});
	return p;
}

/** A write; on failure the message is shown and the StorageError rethrown. */
async function persist(stores, body, what) {
	try {
		const out = await writeTx(stores, body, what);
		return out;
	} catch (err) {
		const e = err instanceof StorageError ? err : new StorageError(String(err?.message ?? err), err);
		storageProblem.value = { message: e.message };
		throw e;
	}
}

/** Loads the project from IndexedDB (or makes a new one): once; later calls return the same promise. */
export function loadStudio() {
	loading ??= (async () => {
		try {
			const saved = await loadProject(PROJECT_ID);
			if (saved) {
				const settings = safeSettings(saved.project.settings);
				project.value = { ...saved.project, settings };
				images.value = sortImages(saved.images, saved.project.classes);
				// a run saved as running or paused lost its worker with the page: it is interrupted
				// (in memory only; ft-train resumes it from its checkpoint or saves it as it ends)
				runs.value = saved.runs.map((r) => (r.status === 'running' || r.status === 'paused' ? { ...r, status: 'interrupted' } : r));
				lastAddedAt = Math.max(0, ...saved.images.map((m) => m.addedAt));
				return;
			}
			const fresh = freshProject(PROJECT_ID);
			await persist(['projects'], (tx) => tx.objectStore('projects').put(fresh), 'the new project');
			project.value = fresh;
		} catch (err) {
			storageProblem.value = { message: err.message };
			project.value ??= freshProject(PROJECT_ID);   // work in memory; the banner says nothing is kept
		}
	})();
	return loading;
}

function safeSettings(s) {
	try { return checkSettings(s ?? {}); } catch { return checkSettings(); }
}

/** Saves the project record with `changes` over it; the signal changes only once it is saved. */
async function saveProject(changes, what, extra) {
	const next = { ...project.value, ...changes, updatedAt: Date.now() };
	await persist(['projects', 'images'], async (tx) => {
		const ops = [tx.objectStore('projects').put(next)];
		if (extra) ops.push(extra(tx));
		return Promise.all(ops);
	}, what);
	project.value = next;
	return next;
}

/** The Blob of an image, read lazily from IndexedDB. */
export async function imageBlob(id) {
	const blob = await readImageField(id, 'blob');
	if (!blob) throw new Error(`no image ${id} in this project`);
	return blob;
}

/** The index of a class in project.classes: the label the engine trains on. -1 if unknown. */
export function classIndex(classId) {
	return project.value?.classes.findIndex((c) => c.id === classId) ?? -1;
}

/** The held-out split of the current images, with the settings' valFraction and seed. */
export function currentSplit() {
	if (!project.value) return { train: [], val: [] };
	const list = images.value;
	const s = project.value.settings;
	const { train, val } = splitStratified(list.map((m) => classIndex(m.classId)), s.valFraction, s.seed);
	return { train: train.map((i) => list[i]), val: val.map((i) => list[i]) };
}

/** Checks and saves settings; throws a SettingsError (nothing saved) or a StorageError. */
export function updateSettings(patch) {
	return serial(async () => {
		const settings = checkSettings({ ...project.value.settings, ...patch });
		await saveProject({ settings }, 'the settings');
		return settings;
	});
}

/** Saves a run (put by id) and updates `runs`. */
export async function saveRun(run) {
	const rec = { ...run, projectId: run.projectId ?? PROJECT_ID };
	await persist(['runs'], (tx) => tx.objectStore('runs').put(rec), 'the training run');
	const others = runs.value.filter((r) => r.id !== rec.id);
	runs.value = [...others, rec].sort((a, b) => a.startedAt - b.startedAt);
	return rec;
}

/** Cached 512-d features for `key`, or undefined. */
export async function getFeatures(key) {
	return readFeatures(key);
}

/** Caches features; a failed write is shown (the cache is only a speed-up: training goes on). */
export async function putFeatures(key, f) {
	try {
		await writeFeatures(key, f);
	} catch (err) {
		storageProblem.value = { message: err.message };
		throw err;
	}
}

/** Opens the gallery dialog on these images (the confusion matrix's cells use it). */
export async function openImagesById(ids, title = `${ids.length} image${ids.length === 1 ? '' : 's'}`) {
	gallery.value = { title, ids: [...ids] };
}

/** Adds a class; the label is checked (LabelError). */
export function addClass(label) {
	return serial(async () => {
		const classes = project.value.classes;
		if (classes.length >= 100) throw new Error('A project can have at most 100 classes.');
		const c = { id: newId('c'), label: checkLabel(label, classes) };
		await saveProject({ classes: [...classes, c] }, 'the new class');
		return c;
	});
}

/** Renames a class (its images stay). */
export function renameClass(id, label) {
	return serial(async () => {
		const classes = project.value.classes;
		const clean = checkLabel(label, classes.filter((c) => c.id !== id));
		await saveProject({ classes: classes.map((c) => (c.id === id ? { ...c, label: clean } : c)) }, 'the new name');
	});
}

/** Removes a class and its images (the UI asks first when it has images). */
export function removeClass(id) {
	return serial(async () => {
		if (project.value.classes.length <= 1) throw new Error('A project keeps at least one class.');
		const gone = images.value.filter((m) => m.classId === id).map((m) => m.id);
		const classes = project.value.classes.filter((c) => c.id !== id);
		await saveProject({ classes }, 'the removal', (tx) => Promise.all(gone.map((k) => tx.objectStore('images').delete(k))));
		images.value = images.value.filter((m) => m.classId !== id);
		forgetThumbs(gone);
	});
}

/**
 * Checks each file and stores the good ones in class `classId`, in one transaction.
 * @param {string} classId
 * @param {Iterable<File>} files
 * @returns {Promise<{ added: ImageMeta[], rejected: { name: string, reason: string }[] }>}
 */
export async function addFiles(classId, files) {
	const list = [...files];
	intakeProgress.value = { done: 0, total: list.length };
	let results;
	try {
		results = await inspectAll(list, (done, total) => (intakeProgress.value = { done, total }));
	} finally {
		intakeProgress.value = null;
	}
	const checked = list.map((f, i) => ({ name: f.name || 'pasted image', result: results[i] }));
	return serial(async () => {
		if (classIndex(classId) < 0) throw new Error('That class was removed.');
		const rejected = [];
		const seen = new Set(images.value.filter((m) => m.classId === classId).map((m) => m.sha256));
		const recs = [];
		for (const { name, result } of checked) {
			if (!result.ok) { rejected.push({ name, reason: result.reason }); continue; }
			if (seen.has(result.rec.sha256)) { rejected.push({ name, reason: 'the same image is already in this class (skipped)' }); continue; }
			seen.add(result.rec.sha256);
			lastAddedAt = Math.max(Date.now(), lastAddedAt + 1);
			recs.push({ ...result.rec, id: newId('i'), projectId: PROJECT_ID, classId, addedAt: lastAddedAt });
		}
		if (recs.length) {
			await saveProject({}, recs.length === 1 ? 'the new image' : `the ${recs.length} new images`,
				(tx) => Promise.all(recs.map((r) => tx.objectStore('images').put(r))));
			images.value = sortImages([...images.value, ...recs.map(imageMeta)], project.value.classes);
		}
		return { added: recs.map(imageMeta), rejected };
	});
}

/** Moves an image to another class. */
export function moveImage(id, classId) {
	return serial(async () => {
		if (classIndex(classId) < 0) throw new Error('That class was removed.');
		const meta = images.value.find((m) => m.id === id);
		if (!meta || meta.classId === classId) return;
		await saveProject({}, 'the move', async (tx) => {
			const store = tx.objectStore('images');
			const rec = await store.get(id);
			return store.put({ ...rec, classId });
		});
		images.value = sortImages(images.value.map((m) => (m.id === id ? { ...m, classId } : m)), project.value.classes);
	});
}

/** Removes one image. */
export function removeImage(id) {
	return serial(async () => {
		await saveProject({}, 'the removal', (tx) => tx.objectStore('images').delete(id));
		images.value = images.value.filter((m) => m.id !== id);
		forgetThumbs([id]);
	});
}

/** Empties the project: classes back to two empty ones, images, runs and cached features gone. */
export function clearProject() {
	return serial(async () => {
		await replaceAll(freshProject(PROJECT_ID), [], [], true, 'the cleared project');
	});
}

/**
 * Replaces the whole project (opening a project file): `recs` are full image records, `runList`
 * runs. One transaction; the signals change only once it committed.
 */
export function replaceProjectRecords(next, recs, runList) {
	return serial(() => replaceAll(next, recs, runList, false, 'the opened project'));
}

async function replaceAll(next, recs, runList, clearFeatures, what) {
	const p = { ...next, id: PROJECT_ID, updatedAt: Date.now() };
	const imgs = recs.map((r) => ({ ...r, projectId: PROJECT_ID }));
	const rs = runList.map((r) => ({ ...r, projectId: PROJECT_ID }));
	try {
		await replaceProject(PROJECT_ID, { project: p, images: imgs, runs: rs, clearFeatures }, what);
	} catch (err) {
		storageProblem.value = { message: err.message };
		throw err;
	}
	forgetThumbs();
	project.value = p;
	images.value = sortImages(imgs.map(imageMeta), p.classes);
	runs.value = rs.sort((a, b) => a.startedAt - b.startedAt);
	lastAddedAt = Math.max(0, ...imgs.map((m) => m.addedAt));
}

/** Hides the storage message (the learner read it). */
export function dismissStorageProblem() {
	storageProblem.value = null;
}
