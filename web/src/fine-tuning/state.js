// state.js: the studio's data as signals, and the actions that change it. The only module the
// components import for data (docs/fine-tuning.md). Every action writes IndexedDB first (one
// transaction) and only then changes the signals, so what the page shows is what a reload brings
// back; a failed write sets `storageProblem` and throws the StorageError (the signals keep the
// saved state). Guarded by tests/e2e/studio-data.spec.mjs (reload, quota, move/remove).
import { checkSettings, splitStratified } from '../../../js/finetune-settings.mjs';
import { readImageField, readFeatures, writeFeatures, imageMeta } from './project-db.js';
import { inspectAll } from './intake.js';
import { thumbUrl, forgetThumbs } from './thumbs.js';
import { checkLabel, newId, sortImages } from './project-model.js';
import { PROJECT_ID, project, images, runs, storageProblem, gallery, intakeProgress, serial, persist, nextAddedAt } from './state-core.js';

export { thumbUrl };
export { checkLabel, LabelError } from './project-model.js';
export { project, images, runs, storageProblem, gallery, intakeProgress } from './state-core.js';
export { loadStudio, clearProject, replaceProjectRecords } from './project-life.js';

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

/** "Class N" with the first N from the class count up that no class uses. */
function freeName(classes) {
	const used = new Set(classes.map((c) => c.label));
	let n = classes.length + 1;
	while (used.has(`Class ${n}`)) n++;
	return `Class ${n}`;
}

/** Adds a class; the label is checked (LabelError); an empty one takes the first free "Class N". */
export function addClass(label = '') {
	return serial(async () => {
		const classes = project.value.classes;
		if (classes.length >= 100) throw new Error('A project can have at most 100 classes.');
		// an empty label names the class here, after the actions queued before this one
		// (studio-data.spec.mjs "classes": add right after removals)
		const c = { id: newId('c'), label: checkLabel(label || freeName(classes), classes) };
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
			recs.push({ ...result.rec, id: newId('i'), projectId: PROJECT_ID, classId, addedAt: nextAddedAt() });
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

/** Hides the storage message (the learner read it). */
export function dismissStorageProblem() {
	storageProblem.value = null;
}
