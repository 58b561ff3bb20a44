// studio-api.js: `window.gradboxStudio`, a small API for test harnesses and course pages that
// drive the studio without clicking (README "How a harness drives the studio"). It calls the
// same actions as the controls, so everything it does is checked and saved the same way.
// Guarded by tests/e2e/studio-data.spec.mjs (uses it to add 1,000 images).
import * as s from './state.js';
import { addToClass } from './studio-actions.js';

const copy = (x) => JSON.parse(JSON.stringify(x));

/** Resolves a class given by id or by label. */
function classId(ref) {
	const c = s.project.value?.classes.find((k) => k.id === ref) ?? s.project.value?.classes.find((k) => k.label === ref);
	if (!c) throw new Error(`no class ${JSON.stringify(ref)}`);
	return c.id;
}

/** Accepts File/Blob objects or { name, bytes: Uint8Array | number[], type } descriptions. */
function toFiles(files) {
	return [...files].map((f, i) => (f instanceof Blob ? f : new File([new Uint8Array(f.bytes)], f.name ?? `file-${i}`, { type: f.type ?? '' })));
}

/** Installs window.gradboxStudio (once). */
export function installStudioApi() {
	if (typeof window === 'undefined' || window.gradboxStudio) return;
	window.gradboxStudio = Object.freeze({
		version: 1,
		/** Resolves once the project is loaded from IndexedDB. */
		ready: () => s.loadStudio(),
		/** [{ id, label }] */
		classes: () => copy(s.project.value?.classes ?? []),
		/** ImageMeta[] in display order */
		images: () => copy(s.images.value),
		settings: () => copy(s.project.value?.settings ?? null),
		/** { train: ids, val: ids } */
		split: () => {
			const { train, val } = s.currentSplit();
			return { train: train.map((m) => m.id), val: val.map((m) => m.id) };
		},
		addClass: async (label) => copy(await s.addClass(label)),
		renameClass: (ref, label) => s.renameClass(classId(ref), label),
		removeClass: (ref) => s.removeClass(classId(ref)),
		/** → { added: ImageMeta[], rejected: [{ name, reason }] } (also shown on the page) */
		addFiles: async (ref, files) => {
			const r = await addToClass(classId(ref), toFiles(files));
			if (r.error) throw r.error;
			return copy({ added: r.added, rejected: r.rejected });
		},
		moveImage: (id, ref) => s.moveImage(id, classId(ref)),
		removeImage: (id) => s.removeImage(id),
		updateSettings: (patch) => s.updateSettings(patch),
		openImagesById: (ids, title) => s.openImagesById(ids, title),
		/** Run[] with checkpoints as byte counts ({ epoch, bytes, optimizer }) (the training section's runs, saved with saveRun) */
		runs: () => s.runs.value.map((r) => ({ ...copy({ ...r, checkpoint: null }), checkpoint: r.checkpoint ? { epoch: r.checkpoint.epoch, bytes: r.checkpoint.bytes.length, optimizer: r.checkpoint.optimizer?.length ?? 0 } : null })),
		saveRun: (run) => s.saveRun(run),
		storageProblem: () => s.storageProblem.value?.message ?? null,
	});
}
