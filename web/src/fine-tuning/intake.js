// intake.js: turns the files a learner gives (picker, drop, paste, webcam) into image records, or
// into a reason each one is refused. Checks, in order, before anything is stored:
//   zero bytes → header sniff (not an image) → pixel size from the header against PIXEL_CAP (no
//   decoding) → the end of the file (a JPEG without its end marker, a PNG without IEND: truncated;
//   PIL raises "image file is truncated", and Chromium's createImageBitmap refuses them too, as
//   checked in Chromium 156, though an <img> would paint the missing part grey: the early check
//   gives the precise reason) → a real decode with createImageBitmap (corrupt data fails here) →
//   a thumbnail → sha256.
// Guarded by tests/node/image-header.test.mjs (pure checks) and tests/e2e/studio-data.spec.mjs.
import { HEADER_BYTES, PIXEL_CAP, headerProblem, trailerProblem, sniffImage } from './image-header.js';

/** Longest side of a stored thumbnail, in pixels. */
export const THUMB_SIZE = 160;

const hex = (buf) => Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, '0')).join('');

/** Reads a file's bytes; a file that vanished or cannot be read becomes a reason. */
async function bytesOf(file) {
	try {
		return new Uint8Array(await file.arrayBuffer());
	} catch (err) {
		throw new Error(`the file could not be read (${err?.name ?? 'error'})`);
	}
}

async function decode(blob) {
	try {
		return await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none', imageOrientation: 'from-image' });
	} catch {
		throw new Error('the browser could not decode it (corrupt or an unsupported format)');
	}
}

/** A thumbnail of at most THUMB_SIZE pixels on its longer side, as a WebP Blob. */
async function thumbnail(bitmap) {
	const scale = Math.min(1, THUMB_SIZE / Math.max(bitmap.width, bitmap.height));
	const w = Math.max(1, Math.round(bitmap.width * scale));
	const h = Math.max(1, Math.round(bitmap.height * scale));
	const small = await createImageBitmap(bitmap, { resizeWidth: w, resizeHeight: h, resizeQuality: 'medium' });
	const canvas = new OffscreenCanvas(w, h);
	canvas.getContext('2d').drawImage(small, 0, 0);
	small.close();
	return canvas.convertToBlob({ type: 'image/webp', quality: 0.85 });
}

/**
 * Checks and decodes one file.
 * @param {File | Blob} file (a Blob is named by `name`)
 * @returns {Promise<{ ok: true, rec: object } | { ok: false, reason: string }>} rec has every image
 *   field except id, projectId, classId and addedAt
 */
export async function inspectFile(file, name = file.name || 'image') {
	try {
		if (file.size === 0) return { ok: false, reason: 'the file is empty (0 bytes)' };
		const head = new Uint8Array(await file.slice(0, HEADER_BYTES).arrayBuffer());
		const early = headerProblem(head, file.size, PIXEL_CAP);
		if (early) return { ok: false, reason: early };
		const bytes = await bytesOf(file);
		const info = sniffImage(head);
		const late = trailerProblem(bytes, info.format);
		if (late) return { ok: false, reason: late };
		const sha256 = hex(await crypto.subtle.digest('SHA-256', bytes));
		// NOTE: the File itself is stored (IndexedDB copies it when the transaction commits), not a
		// copy of its bytes: adding 1,000 photos holds one file's bytes at a time in this tab.
		const blob = file.type ? file : new Blob([bytes], { type: `image/${info.format}` });
		const bitmap = await decode(blob);
		try {
			if (bitmap.width * bitmap.height > PIXEL_CAP) return { ok: false, reason: `${bitmap.width}×${bitmap.height} pixels is over the limit of ${PIXEL_CAP / 1e6} megapixels` };
			const thumb = await thumbnail(bitmap);
			return { ok: true, rec: { name, type: blob.type, bytes: file.size, width: bitmap.width, height: bitmap.height, sha256, blob, thumb } };
		} finally {
			bitmap.close();
		}
	} catch (err) {
		return { ok: false, reason: err?.message ?? String(err) };
	}
}

/**
 * Files from a drop: plain files, and folders read recursively through webkitGetAsEntry. A folder
 * whose subfolders hold the images is an ImageFolder dataset: each subfolder names a class.
 * @param {DataTransfer} dt
 * @returns {Promise<{ loose: File[], folders: Map<string, File[]>, leaves: Map<string, File[]> }>}
 *   folders: class name → files (from a folder of class folders); leaves: a dropped folder with no
 *   subfolders → its files (the caller puts them in the class they were dropped on, or names one)
 */
export async function filesFromDrop(dt) {
	const entries = [...(dt.items ?? [])].map((it) => it.webkitGetAsEntry?.()).filter(Boolean);
	const loose = [];
	const folders = new Map();
	const leaves = new Map();
	if (!entries.length) return { loose: [...(dt.files ?? [])], folders, leaves };
	for (const e of entries) {
		if (e.isFile) loose.push(await fileOf(e));
		else if (e.isDirectory) {
			const children = await readDir(e);
			const subdirs = children.filter((c) => c.isDirectory);
			if (subdirs.length) {
				for (const d of subdirs) folders.set(d.name, await allFiles(d));
				for (const f of children.filter((c) => c.isFile)) loose.push(await fileOf(f));
			} else {
				leaves.set(e.name, await allFiles(e));
			}
		}
	}
	return { loose, folders, leaves };
}

const fileOf = (entry) => new Promise((res, rej) => entry.file(res, rej));

async function readDir(dir) {
	const reader = dir.createReader();
	const out = [];
	// readEntries returns at most 100 entries per call: call until it returns none
	for (;;) {
		const batch = await new Promise((res, rej) => reader.readEntries(res, rej));
		if (!batch.length) return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
		out.push(...batch);
	}
}

async function allFiles(dir) {
	const out = [];
	for (const c of await readDir(dir)) {
		if (c.isFile) out.push(await fileOf(c));
		else if (c.isDirectory) out.push(...await allFiles(c));
	}
	return out;
}

/**
 * inspectFile over many files, a few at a time (decoding runs off the main thread, so two or three
 * in flight keep it busy), results in the files' order.
 * @param {File[]} files
 * @param {(done: number, total: number) => void} onProgress
 */
export async function inspectAll(files, onProgress = () => {}, width = 3) {
	const out = new Array(files.length);
	let next = 0;
	let done = 0;
	const worker = async () => {
		while (next < files.length) {
			const i = next++;
			out[i] = await inspectFile(files[i], files[i].name || 'pasted image');
			onProgress(++done, files.length);
		}
	};
	await Promise.all(Array.from({ length: Math.min(width, files.length) }, worker));
	return out;
}
