// imagefolder.mjs: a session's images as torchvision's ImageFolder layout, zipped (fflate), and
// torchvision's ordering rules. Runs in the browser and in Node (no node: imports; the disk walk
// of the command line is js/imagefolder-dir.mjs).
//   dataset.zip
//     classes.json                 the real labels, in the page's class order
//     finetune.py, README.txt      the script that trains on it (js/finetune-script.mjs)
//     train/00_cat/0000_img_1.png  NN keeps the page's class order: ImageFolder sorts folder names
//     val/00_cat/...               NNNN keeps each class's image order: ImageFolder sorts file names
// Guarded by tests/node/imagefolder.test.mjs.
import { strToU8, unzipSync, zipSync } from 'fflate';

/** torchvision.datasets.folder.IMG_EXTENSIONS (0.14), lower case: what ImageFolder reads. */
export const IMG_EXTENSIONS = Object.freeze(['.jpg', '.jpeg', '.png', '.ppm', '.bmp', '.pgm', '.tif', '.tiff', '.webp']);

/** Whether torchvision's has_file_allowed_extension accepts this name (case-insensitive). */
export const hasImageExtension = (name) => IMG_EXTENSIONS.some((e) => name.toLowerCase().endsWith(e));

/** Python's str ordering (by code point; JS's default sort compares UTF-16 units). */
export function comparePython(a, b) {
	const x = [...a], y = [...b];
	for (let i = 0; i < Math.min(x.length, y.length); i++) {
		const d = x[i].codePointAt(0) - y[i].codePointAt(0);
		if (d !== 0) return d;
	}
	return x.length - y.length;
}

/**
 * A label or file name cut down to a portable subset for a path part: letters, digits, '-', '_'
 * and inner dots; anything else becomes '_', at most `max` characters; never empty, never '.'
 * or '..', never a '/' or '\\'. The real labels travel in classes.json.
 */
export function safeName(text, max = 48) {
	let s = String(text).normalize('NFKD').replace(/[\u0300-\u036f]/g, '')
		.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+|[._]+$/g, '');
	s = s.slice(0, max).replace(/[._]+$/, '');
	return s || 'x';
}

const SIGNATURES = [
	['.png', [0x89, 0x50, 0x4e, 0x47]], ['.jpg', [0xff, 0xd8, 0xff]], ['.bmp', [0x42, 0x4d]],
	['.tif', [0x49, 0x49, 0x2a, 0x00]], ['.tif', [0x4d, 0x4d, 0x00, 0x2a]], ['.gif', [0x47, 0x49, 0x46, 0x38]],
];

/**
 * The file extension for an image's bytes, from its signature (the name may lie or have none):
 * '.png', '.jpg', '.bmp', '.tif', '.webp', '.gif', or the name's own extension if unknown.
 */
export function imageExtension(bytes, name = '') {
	for (const [ext, sig] of SIGNATURES) if (sig.every((b, i) => bytes[i] === b)) return ext;
	if (bytes.length >= 12 && String.fromCharCode(...bytes.subarray(8, 12)) === 'WEBP') return '.webp';
	const m = /\.[A-Za-z0-9]{1,5}$/.exec(name);
	return m ? m[0].toLowerCase() : '.bin';
}

const pad = (n, width) => String(n).padStart(width, '0');

/** The folder of class k among n: "NN_<safe label>" (at least two digits). */
export function classFolder(k, n, label) {
	return `${pad(k, Math.max(2, String(n - 1).length))}_${safeName(label)}`;
}

/**
 * The zip entries' paths for one split: items [{ label, name, bytes }] in the order the training
 * loop uses (class by class, each class's images in order), so ImageFolder lists them in that order.
 * @returns {string[]} one path per item
 */
export function splitPaths(split, items, labels) {
	const counts = new Array(labels.length).fill(0);
	for (const it of items) counts[it.label]++;
	const seen = new Array(labels.length).fill(0);
	let last = -1;
	return items.map((it) => {
		if (it.label < last) throw new Error(`${split}: the images must come class by class (ImageFolder's order)`);
		last = it.label;
		const width = Math.max(4, String(counts[it.label] - 1).length);
		const base = safeName(String(it.name ?? 'image').replace(/\.[^.]*$/, ''), 40);
		const i = seen[it.label]++;
		return `${split}/${classFolder(it.label, labels.length, labels[it.label])}/${pad(i, width)}_${base}${imageExtension(it.bytes, it.name)}`;
	});
}

const README = (labels, nTrain, nVal) => `Gradbox: your images in torchvision's ImageFolder layout.

  train/   ${nTrain} images for training      val/   ${nVal} held-out images
  classes.json   the class labels as you wrote them (folder names are cut to a portable subset;
                 the number in front keeps your class order, because ImageFolder sorts folders)
  finetune.py    the training session as a PyTorch script

Classes: ${labels.length}. Run:  python finetune.py --data . --weights resnet18.pth
`;

/**
 * The dataset as one zip (fflate's zipSync; images stored, text deflated; fixed dates, so the
 * same session gives the same bytes).
 * @param {{ labels: string[], train: {label: number, name: string, bytes: Uint8Array}[],
 *   val: {label: number, name: string, bytes: Uint8Array}[], script?: string }} data
 * @returns {Uint8Array}
 */
export function datasetZip({ labels, train, val, script }) {
	const mtime = new Date(Date.UTC(2000, 0, 1));
	const files = {};
	const put = (path, bytes, level) => {
		if (Object.hasOwn(files, path)) throw new Error(`two files would be ${path}`);
		files[path] = [bytes, { level, mtime }];
	};
	put('classes.json', strToU8(`${JSON.stringify(labels, null, 1)}\n`), 6);
	put('README.txt', strToU8(README(labels, train.length, val.length)), 6);
	if (script) put('finetune.py', strToU8(script), 6);
	for (const [split, items] of [['train', train], ['val', val]]) {
		splitPaths(split, items, labels).forEach((p, i) => put(p, items[i].bytes, 0));
	}
	return zipSync(files);
}

/** Limits for reading a dataset zip back (hostile files): entries, bytes per entry and in all. */
export const ZIP_LIMITS = Object.freeze({ entries: 20000, entryBytes: 64 << 20, totalBytes: 1 << 30 });

/**
 * Reads a dataset zip (ours, or any ImageFolder zip with train/ and optionally val/): the
 * classes (from classes.json when it is a list of strings with one per folder, else the folder
 * names) and each split's images in ImageFolder's order. Throws a readable message for a bad zip
 * or one over ZIP_LIMITS; files outside train/ and val/ or without an image extension are skipped.
 * @returns {{ labels: string[], train: {label, name, bytes}[], val: {label, name, bytes}[], skipped: {name, reason}[] }}
 */
export function readDatasetZip(bytes, limits = ZIP_LIMITS) {
	let total = 0, count = 0;
	const filter = (f) => {
		if (++count > limits.entries) throw new Error(`the zip has more than ${limits.entries} entries`);
		if (f.originalSize > limits.entryBytes) throw new Error(`${f.name}: ${f.originalSize} bytes, over the ${limits.entryBytes} allowed for one file`);
		total += f.originalSize;
		if (total > limits.totalBytes) throw new Error(`the zip holds over ${limits.totalBytes} bytes`);
		return true;
	};
	let files;
	try {
		files = unzipSync(bytes, { filter });
	} catch (e) {
		throw new Error(`not a readable zip: ${e.message}`);
	}
	const skipped = [];
	const splits = { train: new Map(), val: new Map() };
	for (const [path, data] of Object.entries(files)) {
		if (path.endsWith('/') || path === 'classes.json' || path === 'finetune.py' || path === 'README.txt') continue;
		const parts = path.split('/');
		if (parts.length !== 3 || !Object.hasOwn(splits, parts[0]) || parts.includes('..')) { skipped.push({ name: path, reason: 'not in train/<class>/ or val/<class>/' }); continue; }
		if (!hasImageExtension(parts[2])) { skipped.push({ name: path, reason: 'not an image extension ImageFolder reads' }); continue; }
		const m = splits[parts[0]];
		if (!m.has(parts[1])) m.set(parts[1], []);
		m.get(parts[1]).push({ name: parts[2], bytes: data });
	}
	const folders = [...splits.train.keys()].sort(comparePython);
	if (folders.length < 2) throw new Error(`train/ has ${folders.length} class folder(s) with images; at least 2 are needed`);
	for (const f of splits.val.keys()) if (!folders.includes(f)) throw new Error(`val/${f} is not a class in train/`);
	let labels = folders;
	if (files['classes.json']) {
		try {
			const l = JSON.parse(new TextDecoder().decode(files['classes.json']));
			if (Array.isArray(l) && l.length === folders.length && l.every((x) => typeof x === 'string')) labels = l;
		} catch { skipped.push({ name: 'classes.json', reason: 'not a JSON list of labels; the folder names are used' }); }
	}
	const list = (m) => folders.flatMap((f, label) => (m.get(f) ?? [])
		.sort((a, b) => comparePython(a.name, b.name)).map((x) => ({ label, ...x })));
	return { labels: [...labels], train: list(splits.train), val: list(splits.val), skipped };
}
