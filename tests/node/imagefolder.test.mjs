// imagefolder.test.mjs: js/imagefolder.mjs (names, the zip, reading one back) and
// js/imagefolder-dir.mjs (torchvision's find_classes / make_dataset order, the split folders,
// the decoder's refusals) on small generated files.
//   node --test tests/node/imagefolder.test.mjs
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';

import { strToU8, unzipSync, zipSync } from 'fflate';
import sharp from 'sharp';

import { ImageError, decodeImageFile, listImageFolder, readImageFolderDir } from '../../js/imagefolder-dir.mjs';
import { classFolder, comparePython, datasetZip, imageExtension, readDatasetZip, safeName, splitPaths } from '../../js/imagefolder.mjs';

const tmp = mkdtempSync(join(tmpdir(), 'gradbox-if-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);
const JPG = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 9]);

describe('names', () => {
	test('safeName keeps a portable subset and never a path', () => {
		assert.equal(safeName('Golden retriever'), 'Golden_retriever');
		assert.equal(safeName('<img src=x onerror=alert(1)>'), 'img_src_x_onerror_alert_1');
		assert.equal(safeName('../../etc/passwd'), 'etc_passwd');
		assert.equal(safeName('..'), 'x');
		assert.equal(safeName(''), 'x');
		assert.equal(safeName('Café crème'), 'Cafe_creme');
		assert.equal(safeName('猫'), 'x');
		assert.equal(safeName('a'.repeat(100)).length, 48);
		for (const s of ['a/b', 'a\\b', '.hidden', 'x.', 'C:\\x']) assert.match(safeName(s), /^[A-Za-z0-9][A-Za-z0-9._-]*$/);
	});

	test('class folders sort in the page\'s order, also past 10 and 100 classes', () => {
		const labels = Array.from({ length: 101 }, (_, k) => `z${100 - k}`);
		const folders = labels.map((l, k) => classFolder(k, labels.length, l));
		assert.equal(folders[0], '000_z100');
		assert.deepEqual([...folders].sort(comparePython), folders);
		assert.equal(classFolder(3, 12, 'cat'), '03_cat');
	});

	test('Python\'s code-point order, not UTF-16\'s', () => {
		assert.ok(comparePython('\u{1F600}', '\uFF5E') > 0);   // JS's sort says the opposite
		assert.ok(comparePython('a', 'a/b') < 0 && comparePython('B', 'a') < 0);
	});

	test('extension from the bytes\' signature', () => {
		assert.equal(imageExtension(PNG, 'photo.jpg'), '.png');
		assert.equal(imageExtension(JPG, 'x'), '.jpg');
		assert.equal(imageExtension(strToU8('RIFF1234WEBPVP8 '), 'a'), '.webp');
		assert.equal(imageExtension(new Uint8Array(4), 'scan.TIFF'), '.tiff');
	});
});

describe('the dataset zip', () => {
	const labels = ['dog <b>', 'cat', 'dog <b>!'];
	const train = [
		{ label: 0, name: 'a.png', bytes: PNG }, { label: 0, name: 'a.png', bytes: PNG },
		{ label: 1, name: 'z.jpg', bytes: JPG }, { label: 2, name: '../x.png', bytes: PNG },
	];
	const val = [{ label: 1, name: 'v.png', bytes: PNG }, { label: 2, name: 'w.png', bytes: PNG }];

	test('ImageFolder layout, the real labels, the script, and the same images back in order', () => {
		const zip = datasetZip({ labels, train, val, script: 'print(1)\n' });
		const files = unzipSync(zip);
		assert.deepEqual(Object.keys(files).filter((p) => p.startsWith('train/')), [
			'train/00_dog_b/0000_a.png', 'train/00_dog_b/0001_a.png', 'train/01_cat/0000_z.jpg', 'train/02_dog_b/0000_x.png']);
		assert.deepEqual(JSON.parse(new TextDecoder().decode(files['classes.json'])), labels);
		assert.equal(new TextDecoder().decode(files['finetune.py']), 'print(1)\n');
		assert.match(new TextDecoder().decode(files['README.txt']), /train\/\s+4 images/);
		const back = readDatasetZip(zip);
		assert.deepEqual(back.labels, labels);
		assert.deepEqual(back.train.map((x) => [x.label, x.name]), [[0, '0000_a.png'], [0, '0001_a.png'], [1, '0000_z.jpg'], [2, '0000_x.png']]);
		assert.deepEqual(back.val.map((x) => x.label), [1, 2]);
		assert.deepEqual(back.train[2].bytes, JPG);
		assert.deepEqual(datasetZip({ labels, train, val }), datasetZip({ labels, train, val }), 'the same bytes twice');
	});

	test('images out of class order are refused (ImageFolder would reorder them)', () => {
		assert.throws(() => splitPaths('train', [{ label: 1, name: 'a', bytes: PNG }, { label: 0, name: 'b', bytes: PNG }], ['a', 'b']), /class by class/);
	});

	test('bad and hostile zips: a message, nothing read', () => {
		assert.throws(() => readDatasetZip(strToU8('not a zip at all')), /not a readable zip/);
		const many = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`train/a/${i}.png`, PNG]));
		assert.throws(() => readDatasetZip(zipSync(many), { entries: 10, entryBytes: 1e6, totalBytes: 1e9 }), /more than 10 entries/);
		assert.throws(() => readDatasetZip(zipSync({ 'train/a/x.png': new Uint8Array(5000) }), { entries: 10, entryBytes: 100, totalBytes: 1e9 }), /over the 100 allowed/);
		assert.throws(() => readDatasetZip(zipSync({ 'train/a/x.png': PNG })), /at least 2/);
		assert.throws(() => readDatasetZip(zipSync({ 'train/a/x.png': PNG, 'train/b/y.png': PNG, 'val/c/z.png': PNG })), /val\/c is not a class/);
		const r = readDatasetZip(zipSync({ 'train/a/x.png': PNG, 'train/b/y.png': PNG, 'train/b/n.txt': PNG, '../evil/q.png': PNG, 'classes.json': strToU8('{"__proto__":1}') }));
		assert.deepEqual(r.labels, ['a', 'b']);
		assert.deepEqual(r.skipped.map((s) => s.name).sort(), ['../evil/q.png', 'train/b/n.txt']);
		assert.equal(({}).polluted, undefined);
	});
});

describe('an ImageFolder directory on disk', () => {
	const put = (rel, data = PNG) => { mkdirSync(join(tmp, rel, '..'), { recursive: true }); writeFileSync(join(tmp, rel), data); };

	test('find_classes and make_dataset\'s order: sorted folders, sorted walk, extensions', () => {
		for (const f of ['d/b/2.png', 'd/b/10.JPG', 'd/b/sub/1.png', 'd/b/sub-x/0.png', 'd/a/x.webp', 'd/a/readme.txt', 'd/B/k.png', 'd/file.png']) put(f);
		symlinkSync(join(tmp, 'd/a'), join(tmp, 'd/b/sub/loop'));
		const r = listImageFolder(join(tmp, 'd'));
		assert.deepEqual(r.classes, ['B', 'a', 'b']);
		assert.deepEqual(r.samples.map((s) => [s.label, s.name]), [
			[0, 'B/k.png'], [1, 'a/x.webp'], [2, 'b/10.JPG'], [2, 'b/2.png'], [2, 'b/sub/1.png'], [2, 'b/sub-x/0.png'], [2, 'b/sub/loop/x.webp']]);   // as torchvision 0.14 lists it
		assert.deepEqual(r.skipped.map((s) => s.name), ['a/readme.txt', 'b/sub/loop/readme.txt']);
	});

	test('train/ and val/ are the split; their classes must match', () => {
		for (const f of ['s/train/x/1.png', 's/train/y/1.png', 's/val/x/2.png', 's/val/y/3.png']) put(f);
		const r = readImageFolderDir(join(tmp, 's'));
		assert.deepEqual(r.classes, ['x', 'y']);
		assert.deepEqual(r.val.map((s) => s.name), ['val/x/2.png', 'val/y/3.png']);
		put('s2/train/x/1.png'); put('s2/train/y/1.png'); put('s2/val/x/1.png'); mkdirSync(join(tmp, 's2/val/z'));
		assert.throws(() => readImageFolderDir(join(tmp, 's2')), /must be the same folders/);
	});

	test('clear errors: no directory, one class, a class without images', () => {
		assert.throws(() => readImageFolderDir(join(tmp, 'nope')), /no such directory/);
		put('one/a/1.png');
		assert.throws(() => readImageFolderDir(join(tmp, 'one')), /1 class folder/);
		put('empty/a/1.png'); put('empty/b/notes.txt');
		assert.throws(() => readImageFolderDir(join(tmp, 'empty')), /class 'b' has no images/);
	});

	test('the decoder refuses bad files with a reason and reads good ones', async () => {
		const png = await sharp({ create: { width: 5, height: 3, channels: 4, background: { r: 10, g: 20, b: 30, alpha: 0.5 } } }).png().toBuffer();
		put('img/ok.png', png);
		const ok = await decodeImageFile(join(tmp, 'img/ok.png'));
		assert.deepEqual([ok.width, ok.height, ok.rgb.length], [5, 3, 45]);
		assert.deepEqual([...ok.rgb.subarray(0, 3)], [10, 20, 30]);
		put('img/empty.png', new Uint8Array(0));
		put('img/text.png', strToU8('hello'));
		put('img/cut.png', png.subarray(0, 40));
		const reasons = {};
		for (const f of ['empty', 'text', 'cut']) {
			await assert.rejects(decodeImageFile(join(tmp, `img/${f}.png`)), (e) => { reasons[f] = e.message; return e instanceof ImageError; });
		}
		assert.match(reasons.empty, /empty file/);
		assert.match(reasons.text, /not an image/);
		assert.match(reasons.cut, /corrupt or truncated|not an image/);
		await assert.rejects(decodeImageFile(join(tmp, 'img/ok.png'), { maxPixels: 10 }), /5×3 pixels is over the 10 allowed/);
	});
});
