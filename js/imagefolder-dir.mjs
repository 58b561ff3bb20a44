// imagefolder-dir.mjs (Node only): an ImageFolder directory on disk, listed in torchvision's
// order, and its images decoded as PIL decodes them (sharp, no EXIF rotation: PIL applies none).
//   find_classes   sorted(entry.name for entry in os.scandir(dir) if entry.is_dir())
//   make_dataset   per class in that order: sorted(os.walk(class_dir, followlinks=True)), each
//                  root's files sorted, kept if the extension is in IMG_EXTENSIONS
// A directory with train/ and val/ gives the split; any other is one ImageFolder that the caller
// splits (splitStratified). Guarded by tests/node/imagefolder-dir.test.mjs and
// tests/resnet/finetune-preprocess.test.mjs (decoded bytes equal PIL's).
import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

import sharp from 'sharp';

import { IMG_EXTENSIONS, comparePython, hasImageExtension } from './imagefolder.mjs';

/** The most pixels a picture may have; checked from its header, before decoding. */
export const MAX_PIXELS = 40_000_000;

/** A file that cannot be used: `reason` says why in words. */
export class ImageError extends Error {}

const isDir = (p) => { try { return statSync(p).isDirectory(); } catch { return false; } };

/** find_classes: the sorted names of dir's sub-folders. */
export function findClasses(dir) {
	return readdirSync(dir).filter((n) => isDir(join(dir, n))).sort(comparePython);
}

/** os.walk(dir, followlinks=True) as [root, files] pairs, sorted by root (symlink loops cut). */
function walk(dir, seen = new Set()) {
	const real = realpathSync(dir);
	if (seen.has(real)) return [];
	seen.add(real);
	const names = readdirSync(dir);
	const files = names.filter((n) => !isDir(join(dir, n)));
	const out = [[dir, files]];
	for (const n of names) if (isDir(join(dir, n))) out.push(...walk(join(dir, n), seen));
	return out;
}

/**
 * One ImageFolder: its class folders and every file, in make_dataset's order.
 * @returns {{ classes: string[], samples: {path: string, name: string, label: number}[],
 *   skipped: {name: string, reason: string}[] }} skipped: files without an image extension
 */
export function listImageFolder(dir) {
	const classes = findClasses(dir);
	const samples = [], skipped = [];
	classes.forEach((cls, label) => {
		const roots = walk(join(dir, cls)).sort((a, b) => comparePython(a[0], b[0]));
		for (const [root, files] of roots) {
			for (const f of files.sort(comparePython)) {
				const path = join(root, f);
				const name = relative(dir, path);
				if (hasImageExtension(f)) samples.push({ path, name, label });
				else skipped.push({ name, reason: `not an image file ImageFolder reads (extensions ${IMG_EXTENSIONS.join(' ')})` });
			}
		}
	});
	return { classes, samples, skipped };
}

/**
 * The dataset under dir: with train/ and val/ sub-folders, those (the same classes in both);
 * else one ImageFolder (val: null, for the caller to split). Throws an Error with a message for a
 * missing folder, fewer than 2 classes or a class without images.
 */
export function readImageFolderDir(dir) {
	if (!isDir(dir)) throw new Error(`${dir}: no such directory`);
	const hasSplit = isDir(join(dir, 'train')) && isDir(join(dir, 'val'));
	const train = listImageFolder(hasSplit ? join(dir, 'train') : dir);
	const prefix = (s, p) => s.map((x) => ({ ...x, name: join(p, x.name) }));
	if (train.classes.length < 2) throw new Error(`${dir}: ${train.classes.length} class folder(s); ImageFolder needs one folder per class, at least 2`);
	train.classes.forEach((c, k) => {
		if (!train.samples.some((s) => s.label === k)) throw new Error(`class '${c}' has no images (extensions ${IMG_EXTENSIONS.join(' ')})`);
	});
	if (!hasSplit) return { classes: train.classes, train: train.samples, val: null, skipped: train.skipped };
	const val = listImageFolder(join(dir, 'val'));
	if (val.classes.join('/') !== train.classes.join('/')) {
		throw new Error(`val/ has the classes [${val.classes.join(', ')}], train/ [${train.classes.join(', ')}]: they must be the same folders`);
	}
	return {
		classes: train.classes, train: prefix(train.samples, 'train'), val: prefix(val.samples, 'val'),
		skipped: [...prefix(train.skipped, 'train'), ...prefix(val.skipped, 'val')],
	};
}

/**
 * Decodes an image file as Image.open(f).convert('RGB') does: 8-bit RGB, no EXIF rotation,
 * the first frame. Throws an ImageError for an empty file, a file that is not an image, one
 * over maxPixels (from its header, before decoding) or a corrupt or truncated one.
 * @returns {Promise<{ rgb: Uint8Array, width: number, height: number, bytes: Uint8Array }>}
 */
export async function decodeImageFile(path, { maxPixels = MAX_PIXELS } = {}) {
	const bytes = readFileSync(path);
	if (bytes.length === 0) throw new ImageError('empty file (0 bytes)');
	let meta;
	try {
		meta = await sharp(bytes, { limitInputPixels: false }).metadata();
	} catch (e) {
		throw new ImageError(`not an image (${e.message.split('\n')[0]})`);
	}
	if (!meta.width || !meta.height) throw new ImageError('not an image (no size in its header)');
	if (meta.width * meta.height > maxPixels) {
		throw new ImageError(`${meta.width}×${meta.height} pixels is over the ${maxPixels.toLocaleString('en')} allowed`);
	}
	let out;
	try {
		out = await sharp(bytes, { failOn: 'warning', limitInputPixels: maxPixels, pages: 1 })
			.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
	} catch (e) {
		throw new ImageError(`corrupt or truncated (${e.message.split('\n')[0]})`);
	}
	const { data, info } = out;
	return { rgb: toRgb(data, info.width, info.height, info.channels), width: info.width, height: info.height, bytes };
}

/** 1 (grey), 2 (grey + alpha), 3 or 4 channels → RGB, alpha dropped as convert('RGB') does. */
function toRgb(data, w, h, channels) {
	if (channels === 3) return new Uint8Array(data.buffer, data.byteOffset, data.length);
	const out = new Uint8Array(w * h * 3);
	for (let i = 0; i < w * h; i++) {
		const s = i * channels;
		if (channels <= 2) out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = data[s];
		else { out[3 * i] = data[s]; out[3 * i + 1] = data[s + 1]; out[3 * i + 2] = data[s + 2]; }
	}
	return out;
}
