// project-life.js: the project as a whole: loading it from IndexedDB, replacing it (a project
// file, or starting over), and keeping several tabs of the page in step (BroadcastChannel: after
// a write in one tab the others reload from IndexedDB, so one tab never overwrites with a stale
// copy what another saved). Guarded by tests/e2e/studio-data.spec.mjs ("reload", "two tabs").
import { checkSettings } from '../../../js/finetune-settings.mjs';
import { loadProject, replaceProject, imageMeta } from './project-db.js';
import { forgetThumbs } from './thumbs.js';
import { trainingSomewhere } from './run-lock.js';
import { freshProject, sortImages } from './project-model.js';
import { PROJECT_ID, project, images, runs, storageProblem, serial, persist, onWritten, sawAddedAt } from './state-core.js';

let loading = null;
const channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel('gradbox-studio') : null;

function safeSettings(s) {
	try { return checkSettings(s ?? {}); } catch { return checkSettings(); }
}

/** Sets the signals from a loaded project; `fresh` marks runs that were going as interrupted. */
function show(saved, fresh) {
	const known = new Set(saved.images.map((m) => m.id));
	forgetThumbs(images.value.map((m) => m.id).filter((id) => !known.has(id)));
	project.value = { ...saved.project, settings: safeSettings(saved.project.settings) };
	images.value = sortImages(saved.images, saved.project.classes);
	// a run saved as running or paused lost its worker with the page: it is interrupted
	// (in memory only; training-state.js resumes it from its checkpoint or saves it as it ends)
	runs.value = fresh ? saved.runs.map((r) => (r.status === 'running' || r.status === 'paused' ? { ...r, status: 'interrupted' } : r)) : saved.runs;
	sawAddedAt(saved.images);
}

/** Loads the project from IndexedDB (or makes a new one): once; later calls return the same promise. */
export function loadStudio() {
	loading ??= (async () => {
		// ask the browser not to evict the project under storage pressure (granted or not, silently)
		globalThis.navigator?.storage?.persist?.().catch(() => {});
		try {
			const saved = await loadProject(PROJECT_ID);
			// runs saved as going are interrupted, unless another tab is training one now
			if (saved) return show(saved, !(await trainingSomewhere()));
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

// Another tab wrote: reload (in turn with this tab's own actions). Features are only a cache.
onWritten((stores) => {
	if (stores.some((s) => s !== 'features')) channel?.postMessage({ changed: stores });
});
if (channel) {
	channel.onmessage = () => {
		if (!loading) return;
		serial(async () => {
			const saved = await loadProject(PROJECT_ID).catch(() => null);
			if (saved) show(saved, false);
		});
	};
}

/** Empties the project: classes back to two empty ones, images, runs and cached features gone. */
export function clearProject() {
	return serial(() => replaceAll(freshProject(PROJECT_ID), [], [], true, 'the cleared project'));
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
	await persist(['projects', 'images', 'runs', 'features'], (tx) => replaceProject(tx, PROJECT_ID, { project: p, images: imgs, runs: rs, clearFeatures }), what);
	forgetThumbs();
	project.value = p;
	images.value = sortImages(imgs.map(imageMeta), p.classes);
	runs.value = rs.sort((a, b) => a.startedAt - b.startedAt);
	sawAddedAt(imgs);
}
