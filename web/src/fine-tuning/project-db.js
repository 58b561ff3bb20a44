// project-db.js: the studio's IndexedDB (`gradbox-studio`, through `idb`), docs/fine-tuning.md §4.
//   projects  { id, name, classes: [{ id, label }], settings, updatedAt }
//   images    { id, projectId, classId, name, type, bytes, width, height, sha256, blob, thumb, addedAt }
//             indexes projectId, classId
//   features  key (weights sha256 / image sha256 / preprocessing) → Float32Array(512)
//   runs      { id, projectId, settings, classes, history, status, checkpoint, evaluation, ... } index projectId
// Rule: every user action is one transaction; if any request in it fails the transaction is aborted,
// so what was saved before stays as it was, and the caller gets a StorageError with a plain sentence
// (QuotaExceededError → "storage is full"). Guarded by tests/e2e/studio-data.spec.mjs ("quota").
import { openDB } from 'idb';

export const DB_NAME = 'gradbox-studio';
const VERSION = 1;

/** A write or read the browser refused; `message` is for the learner, `cause` the DOMException. */
export class StorageError extends Error {
	constructor(message, cause) {
		super(message);
		this.name = 'StorageError';
		this.cause = cause;
	}
}

/** The learner-facing sentence for a failed storage request. */
export function storageMessage(err, what) {
	const name = err?.name ?? '';
	if (name === 'QuotaExceededError' || /quota/i.test(String(err?.message))) {
		return `The browser's storage for this page is full, so ${what} could not be saved. Everything saved before is kept: free some space (remove images or old runs, or other sites' data) and try again.`;
	}
	return `The browser refused to save ${what} (${name || 'error'}: ${err?.message ?? err}). Everything saved before is kept.`;
}

let dbPromise = null;

/** Opens (and on first use creates) the studio's database. */
export function studioDb() {
	dbPromise ??= openDB(DB_NAME, VERSION, {
		upgrade(db) {
			db.createObjectStore('projects', { keyPath: 'id' });
			const images = db.createObjectStore('images', { keyPath: 'id' });
			images.createIndex('projectId', 'projectId');
			images.createIndex('classId', 'classId');
			db.createObjectStore('features');
			const runs = db.createObjectStore('runs', { keyPath: 'id' });
			runs.createIndex('projectId', 'projectId');
		},
	}).catch((err) => {
		dbPromise = null;
		throw new StorageError(`The browser's storage (IndexedDB) could not be opened: ${err?.message ?? err}. Nothing can be kept across a reload in this window.`, err);
	});
	return dbPromise;
}

/**
 * Runs `body(tx)` in one readwrite transaction over `stores` and waits until it commits. Any
 * failure aborts the whole transaction (nothing of it is kept) and becomes a StorageError.
 * @param {string[]} stores
 * @param {(tx: any) => Promise<any> | any} body returns the requests' promises (or a value)
 * @param {string} what what is being saved, for the message ("the new images")
 */
export async function writeTx(stores, body, what) {
	const db = await studioDb();
	let tx;
	try {
		tx = db.transaction(stores, 'readwrite');
		const result = await Promise.all([body(tx), tx.done]);
		return result[0];
	} catch (err) {
		try { tx?.abort(); } catch { /* already finished or aborted */ }
		tx?.done.catch(() => {});
		throw new StorageError(storageMessage(err, what), err);
	}
}

/** The fields of an image record the UI keeps in memory (the Blobs stay in IndexedDB). */
export function imageMeta(r) {
	return { id: r.id, classId: r.classId, name: r.name, type: r.type, bytes: r.bytes, width: r.width, height: r.height, sha256: r.sha256, addedAt: r.addedAt };
}

/** Loads a project, its images' metadata and its runs. @returns {Promise<{ project, images, runs } | null>} */
export async function loadProject(id) {
	const db = await studioDb();
	const tx = db.transaction(['projects', 'images', 'runs'], 'readonly');
	const [project, imgs, runs] = await Promise.all([
		tx.objectStore('projects').get(id),
		readMetas(tx.objectStore('images').index('projectId'), id),
		tx.objectStore('runs').index('projectId').getAll(id),
		tx.done,
	]);
	if (!project) return null;
	return { project, images: imgs, runs: runs.sort((a, b) => a.startedAt - b.startedAt) };
}

// NOTE: getAll() would structured-clone every record; a cursor lets the metadata be copied one by
// one (the Blobs are handles either way, read only when a thumbnail or the engine asks).
async function readMetas(index, id) {
	const out = [];
	for (let c = await index.openCursor(id); c; c = await c.continue()) out.push(imageMeta(c.value));
	return out;
}

/** The image's Blob (`field` 'blob') or its thumbnail ('thumb'), or undefined. */
export async function readImageField(id, field) {
	const rec = await (await studioDb()).get('images', id);
	return rec?.[field];
}

/** Every record of a project, Blobs included (for the project file). */
export async function readProjectRecords(id) {
	const db = await studioDb();
	return db.getAllFromIndex('images', 'projectId', id);
}

export async function readFeatures(key) {
	return (await studioDb()).get('features', key);
}

export async function writeFeatures(key, f) {
	return writeTx(['features'], (tx) => tx.objectStore('features').put(f, key), 'the cached features');
}

/**
 * Inside a transaction over projects, images, runs and features: replaces everything of project
 * `id` with `next` (project record, image records, runs); used by clear and by opening a project
 * file, through writeTx.
 */
export async function replaceProject(tx, id, next) {
	const images = tx.objectStore('images');
	const runs = tx.objectStore('runs');
	const oldImages = await images.index('projectId').getAllKeys(id);
	const oldRuns = await runs.index('projectId').getAllKeys(id);
	const ops = [...oldImages.map((k) => images.delete(k)), ...oldRuns.map((k) => runs.delete(k))];
	if (next.clearFeatures) ops.push(tx.objectStore('features').clear());
	ops.push(tx.objectStore('projects').put(next.project));
	for (const r of next.images ?? []) ops.push(images.put(r));
	for (const r of next.runs ?? []) ops.push(runs.put(r));
	return Promise.all(ops);
}
