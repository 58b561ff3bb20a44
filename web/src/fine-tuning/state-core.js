// state-core.js: the studio's signals and the two rules every action follows (state.js and
// project-life.js build on it; components import state.js only): actions run one after another
// (serial), and a write that fails sets `storageProblem` and throws (persist). After a write
// commits, the other tabs of this page are told to reload what changed (project-life.js).
import { signal } from '@preact/signals';
import { StorageError, writeTx } from './project-db.js';

export const PROJECT_ID = 'default';

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

let queue = Promise.resolve();
let lastAddedAt = 0;
const written = new Set();

/** Runs actions one after another, so each sees the state the previous one saved. */
export function serial(fn) {
	const p = queue.then(fn);
	queue = p.catch(() => {});
	return p;
}

/** Calls `fn` after every committed write (the cross-tab notice). */
export function onWritten(fn) {
	written.add(fn);
}

/** A write; on failure the message is shown and the StorageError rethrown. */
export async function persist(stores, body, what) {
	let out;
	try {
		out = await writeTx(stores, body, what);
	} catch (err) {
		const e = err instanceof StorageError ? err : new StorageError(String(err?.message ?? err), err);
		storageProblem.value = { message: e.message };
		throw e;
	}
	for (const fn of written) fn(stores);
	return out;
}

/** A strictly increasing addedAt (ms), so images keep the order they were added in. */
export function nextAddedAt() {
	lastAddedAt = Math.max(Date.now(), lastAddedAt + 1);
	return lastAddedAt;
}

/** After loading or replacing the images: later additions sort after them. */
export function sawAddedAt(list) {
	for (const m of list) if (m.addedAt > lastAddedAt) lastAddedAt = m.addedAt;
}
