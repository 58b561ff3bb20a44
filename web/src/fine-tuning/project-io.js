// project-io.js: saving the project to one file and opening one (browser side of project-file.js).
// Opening checks the zip and project.json (project-file.js), then every image as if it were
// added (intake.js: header, decode, size) and against its recorded sha256, and only then offers
// to replace the current project; nothing is changed before the learner says yes.
// Guarded by tests/e2e/studio-data.spec.mjs ("project file").
import { packProject, unpackProject, ProjectFileError } from './project-file.js';
import { readProjectRecords } from './project-db.js';
import { imageMeta } from './project-db.js';
import { inspectAll } from './intake.js';
import { project, runs, replaceProjectRecords } from './state.js';
import { sortImages } from './project-model.js';

/** The current project as a zip Blob (classes, images, settings, runs with curves and weights). */
export async function projectFileBlob() {
	const p = project.value;
	const recs = sortImages(await readProjectRecords(p.id), p.classes);
	const imgs = [];
	for (const r of recs) imgs.push({ meta: imageMeta(r), bytes: new Uint8Array(await r.blob.arrayBuffer()) });
	const zip = packProject({ project: p, images: imgs, runs: runs.value });
	return new Blob([zip], { type: 'application/zip' });
}

/** Saves the project file through a download link. */
export async function downloadProjectFile() {
	const blob = await projectFileBlob();
	const url = URL.createObjectURL(blob);
	const a = document.createElement('a');
	a.href = url;
	a.download = `${(project.value.name || 'project').replace(/[^\w.-]+/g, '-')}.gradbox.zip`;
	document.body.append(a);
	a.click();
	a.remove();
	setTimeout(() => URL.revokeObjectURL(url), 10_000);
	return blob;
}

/**
 * Reads and checks a project file completely.
 * @param {File | Blob} file
 * @param {(done: number, total: number) => void} [onProgress]
 * @returns {Promise<{ name, classes: number, images: number, runs: number, apply: () => Promise<void> }>}
 *   throws a ProjectFileError (or ZipError) with a sentence
 */
export async function readProjectFile(file, onProgress = () => {}) {
	if (file.size > 4 * 1024 ** 3) throw new ProjectFileError('This file is larger than 4 GB, too large to open here.');
	const doc = unpackProject(new Uint8Array(await file.arrayBuffer()));
	// every image is checked as if it were added (three at a time), then against its checksum
	const blobs = doc.images.map((im) => new File([im.bytes], im.name, { type: im.type }));
	const checked = await inspectAll(blobs, onProgress);
	const recs = doc.images.map((im, i) => {
		const res = checked[i];
		if (!res.ok) throw new ProjectFileError(`The image “${im.name}” in this file is refused: ${res.reason}.`);
		if (res.rec.sha256 !== im.sha256) throw new ProjectFileError(`The image “${im.name}” in this file does not match its recorded checksum.`);
		return { ...res.rec, name: im.name, id: im.id, classId: im.classId, addedAt: im.addedAt };
	});
	const next = { id: 'default', name: doc.project.name, classes: doc.project.classes, settings: doc.project.settings };
	return {
		name: doc.project.name,
		classes: doc.project.classes.length,
		images: recs.length,
		runs: doc.runs.length,
		apply: () => replaceProjectRecords(next, recs, doc.runs),
	};
}
