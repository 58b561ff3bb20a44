// studio-actions.js: what the studio's controls do with files, on top of state.js: the report of
// the last intake (every refused file by name, with its reason), the class a paste goes to, and
// drops of files or folders (a folder of class folders is an ImageFolder dataset: it fills the
// classes). Guarded by tests/e2e/studio-data.spec.mjs.
import { signal } from '@preact/signals';
import { addFiles, addClass, project } from './state.js';
import { filesFromDrop } from './intake.js';
import { MAX_CLASSES } from './project-model.js';

/** The last intake: { added: number, rejected: [{ name, reason }], where: string } | null */
export const lastReport = signal(null);
/** The class a paste (Ctrl/Cmd+V) adds to: the last one the learner used. */
export const activeClassId = signal(null);

const labelOf = (id) => project.value?.classes.find((c) => c.id === id)?.label ?? 'the class';

/** Adds files to a class and reports; storage failures are already shown by state.js. */
export async function addToClass(classId, files, where = labelOf(classId)) {
	activeClassId.value = classId;
	const list = [...files];
	if (!list.length) return { added: [], rejected: [] };
	try {
		const r = await addFiles(classId, list);
		lastReport.value = { added: r.added.length, rejected: r.rejected, where };
		return r;
	} catch (err) {
		lastReport.value = { added: 0, rejected: [], where, error: err.message };
		return { added: [], rejected: [], error: err };
	}
}

/** The class named `label`, made if missing (an ImageFolder folder). */
async function classFor(label) {
	const name = label.trim().slice(0, 100) || 'unnamed';
	const found = project.value.classes.find((c) => c.label === name);
	if (found) return found.id;
	if (project.value.classes.length >= MAX_CLASSES) throw new Error(`the project already has ${MAX_CLASSES} classes`);
	return (await addClass(name)).id;
}

/**
 * A drop: loose files go to `classId` (or the active/first class); each folder goes to the class
 * of its name, made if needed. Reports every file refused, and folders that could not be used.
 */
export async function dropInto(dt, classId = null) {
	const { loose, folders, leaves } = await filesFromDrop(dt);
	// a folder of images dropped on a class goes into that class; dropped elsewhere it names one
	if (classId) for (const files of leaves.values()) loose.push(...files);
	else for (const [name, files] of leaves) folders.set(name, files);
	let added = 0;
	const rejected = [];
	const target = classId ?? activeClassId.value ?? project.value.classes[0]?.id;
	if (loose.length && target) {
		const r = await addFiles(target, loose).catch((err) => ({ added: [], rejected: loose.map((f) => ({ name: f.name, reason: err.message })) }));
		added += r.added.length;
		rejected.push(...r.rejected);
	}
	for (const [name, files] of folders) {
		try {
			const id = await classFor(name);
			const r = await addFiles(id, files);
			added += r.added.length;
			rejected.push(...r.rejected.map((x) => ({ ...x, name: `${name}/${x.name}` })));
		} catch (err) {
			rejected.push({ name: `${name}/`, reason: err.message });
		}
	}
	const where = folders.size ? `${folders.size} folder${folders.size === 1 ? '' : 's'} (one class each)` : labelOf(target);
	lastReport.value = { added, rejected, where };
}

/** Image files in a paste (screenshots, copied files). */
export function filesFromPaste(e) {
	const items = [...(e.clipboardData?.items ?? [])].filter((it) => it.kind === 'file');
	return items.map((it, i) => {
		const f = it.getAsFile();
		if (!f) return null;
		return f.name && f.name !== 'image.png' ? f : new File([f], `pasted-${Date.now()}-${i + 1}.${(f.type.split('/')[1] || 'png').replace(/[^a-z0-9]/g, '')}`, { type: f.type });
	}).filter(Boolean);
}
