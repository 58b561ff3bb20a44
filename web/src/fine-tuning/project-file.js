// project-file.js: the whole project as one .zip (pure: bytes in, bytes out; no DOM).
//   project.json          { format, version, project: { name, classes, settings }, images: [...], runs: [...] }
//   images/<id>.<ext>     each image's bytes, exactly as added
//   runs/<id>.ckpt        each run's checkpoint weights (safetensors bytes, docs/fine-tuning.md §2)
//   runs/<id>.optim       and its optimizer state, when the run kept one
// Reading checks the zip (js/safe-zip.mjs) and the JSON (project-schema.js) before anything is
// used. Guarded by tests/node/project-file.test.mjs.
import { readZip, writeZip, ZipError } from '../../../js/safe-zip.mjs';
import { FORMAT, VERSION, ProjectFileError, parseProjectJson } from './project-schema.js';

/** Caps for an opened project file. */
export const PROJECT_LIMITS = Object.freeze({
	maxEntries: 60_000,
	maxEntryBytes: 512 * 1024 * 1024,
	maxTotalBytes: 4 * 1024 * 1024 * 1024 - 1,
	maxJsonBytes: 64 * 1024 * 1024,
});

const EXT = { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/gif': 'gif', 'image/webp': 'webp', 'image/bmp': 'bmp', 'image/avif': 'avif' };
// weights: the backbone a run trained on (its SHA-256, or random-<seed>), to warn when it changes
const RUN_KEYS = ['id', 'settings', 'classes', 'history', 'status', 'startedAt', 'endedAt', 'message', 'evaluation', 'summary', 'weights'];
const safeId = (id) => String(id).replace(/[^A-Za-z0-9_-]/g, '_');

/** JSON without the values it cannot hold: NaN and ±Infinity become null, typed arrays plain lists. */
const jsonSafe = (x) => JSON.parse(JSON.stringify(x, (k, v) => {
	if (typeof v === 'number' && !Number.isFinite(v)) return null;
	return ArrayBuffer.isView(v) ? Array.from(v) : v;
}));

/**
 * Packs a project.
 * @param {{ project: object, images: { meta: object, bytes: Uint8Array }[], runs: object[] }} p
 *   runs as saved (checkpoint { epoch, bytes, optimizer? } or null)
 * @returns {Uint8Array} the zip
 */
export function packProject({ project, images, runs }) {
	const entries = [];
	const imageList = images.map(({ meta, bytes }) => {
		const file = `images/${safeId(meta.id)}.${EXT[meta.type] ?? 'bin'}`;
		entries.push([file, bytes]);
		return { id: meta.id, classId: meta.classId, name: meta.name, type: meta.type, addedAt: meta.addedAt, sha256: meta.sha256, file };
	});
	const runList = runs.map((r) => {
		const out = {};
		for (const k of RUN_KEYS) if (r[k] !== undefined) out[k] = r[k];
		if (r.checkpoint?.bytes) {
			const file = `runs/${safeId(r.id)}.ckpt`;
			entries.push([file, r.checkpoint.bytes]);
			out.checkpoint = { epoch: r.checkpoint.epoch, file };
			// the optimizer's state (momentum buffers, Adam moments), so a run resumes exactly
			if (r.checkpoint.optimizer?.length) {
				out.checkpoint.optimizerFile = `runs/${safeId(r.id)}.optim`;
				entries.push([out.checkpoint.optimizerFile, r.checkpoint.optimizer]);
			}
		} else {
			out.checkpoint = null;
		}
		// a run saved while training is not running any more once it is reopened
		if (out.status === 'running' || out.status === 'paused') out.status = 'interrupted';
		return jsonSafe(out);
	});
	const doc = {
		format: FORMAT, version: VERSION,
		project: { name: project.name, classes: project.classes, settings: project.settings },
		images: imageList, runs: runList,
	};
	entries.unshift(['project.json', new TextEncoder().encode(JSON.stringify(doc, null, 1))]);
	return writeZip(entries);
}

/**
 * Unpacks and checks a project file. Throws a ProjectFileError (or ZipError) with a sentence.
 * @param {Uint8Array} bytes
 * @returns {{ project, images: { ...fields, bytes: Uint8Array }[], runs: object[] }} runs with
 *   checkpoint { epoch, bytes, optimizer: Uint8Array | null }; images still to be decoded and checked (sha256) by the caller
 */
export function unpackProject(bytes) {
	let entries;
	try {
		entries = readZip(bytes, PROJECT_LIMITS);
	} catch (err) {
		if (err instanceof ZipError) throw new ProjectFileError(`This is not a project file that can be opened: ${err.message}.`);
		throw err;
	}
	const json = entries.get('project.json');
	if (!json) throw new ProjectFileError('This zip is not a Gradbox project: it has no project.json.');
	if (json.length > PROJECT_LIMITS.maxJsonBytes) throw new ProjectFileError('project.json is too large.');
	let text;
	try { text = new TextDecoder('utf-8', { fatal: true }).decode(json); } catch { throw new ProjectFileError('project.json is not UTF-8 text.'); }
	const doc = parseProjectJson(text, entries);
	return {
		project: doc.project,
		images: doc.images.map(({ file, ...im }) => ({ ...im, bytes: entries.get(file) })),
		runs: doc.runs.map(({ checkpoint: c, ...r }) => ({
			...r,
			checkpoint: c ? { epoch: c.epoch, bytes: entries.get(c.file), optimizer: c.optimizerFile ? entries.get(c.optimizerFile) : null } : null,
		})),
	};
}

export { ProjectFileError };
