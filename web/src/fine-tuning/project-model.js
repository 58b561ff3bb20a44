// project-model.js: the studio project's pure rules (no DOM, no storage): class labels, a new
// project, ids, and the display order of images. Guarded by tests/node/studio-project.test.mjs.
import { DEFAULT_SETTINGS, checkSettings } from '../../../js/finetune-settings.mjs';

/** Classes a project may hold; training needs at least MIN_TRAIN_CLASSES. */
export const MAX_CLASSES = 100;
export const MIN_TRAIN_CLASSES = 2;
export const MAX_LABEL = 100;

/** A label the studio refuses, with the reason in `message`. */
export class LabelError extends Error {
	constructor(message) {
		super(message);
		this.name = 'LabelError';
	}
}

/**
 * A class label: any text, trimmed, 1-100 characters, unique among `others` (compared after
 * trimming, case-sensitively, as ImageFolder folder names are). Shown as text, never as markup.
 * @param {unknown} label
 * @param {{ label: string }[]} others the other classes
 * @returns {string} the trimmed label
 */
export function checkLabel(label, others = []) {
	if (typeof label !== 'string') throw new LabelError('A class name must be text.');
	const t = label.trim();
	if (!t) throw new LabelError('A class name cannot be empty.');
	if ([...t].length > MAX_LABEL) throw new LabelError(`A class name can have at most ${MAX_LABEL} characters.`);
	if (others.some((c) => c.label === t)) throw new LabelError(`There is already a class named “${t}”.`);
	return t;
}

let counter = 0;

/** A new unique id with a prefix ('c' class, 'i' image, 'r' run). */
export function newId(prefix) {
	counter = (counter + 1) % 1e6;
	const rand = crypto.getRandomValues(new Uint32Array(2));
	return `${prefix}-${Date.now().toString(36)}-${counter.toString(36)}-${rand[0].toString(36)}${rand[1].toString(36)}`;
}

/** A project with two empty classes and the default settings. */
export function freshProject(id) {
	return {
		id,
		name: 'My images',
		classes: [{ id: newId('c'), label: 'Class 1' }, { id: newId('c'), label: 'Class 2' }],
		settings: checkSettings({ ...DEFAULT_SETTINGS }),
		updatedAt: Date.now(),
	};
}

/**
 * Images in display order: class by class (in the project's class order), then by addedAt.
 * Images of an unknown class (should not happen) go last.
 */
export function sortImages(list, classes) {
	const rank = new Map(classes.map((c, i) => [c.id, i]));
	const r = (m) => rank.get(m.classId) ?? classes.length;
	return [...list].sort((a, b) => r(a) - r(b) || a.addedAt - b.addedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** Counts per class id: Map classId → number. */
export function countByClass(list) {
	const n = new Map();
	for (const m of list) n.set(m.classId, (n.get(m.classId) ?? 0) + 1);
	return n;
}
