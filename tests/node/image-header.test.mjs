// The studio's header checks (web/src/fine-tuning/image-header.js) on real files: PIL (Debian's
// /usr/bin/python3) writes each format at a known size at test time; the hostile headers are
// built here byte by byte.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { execFileSync } from 'node:child_process';
import { deflateSync } from 'node:zlib';
import { sniffImage, headerProblem, trailerProblem, PIXEL_CAP } from '../../web/src/fine-tuning/image-header.js';

const FORMATS = [
	['png', 'PNG', {}], ['jpeg', 'JPEG', {}], ['jpeg', 'JPEG', { progressive: true }], ['gif', 'GIF', {}],
	['webp', 'WEBP', { lossless: false }], ['webp', 'WEBP', { lossless: true }], ['bmp', 'BMP', {}],
];

/** Each format at 37×23 (odd sizes: a swapped width/height or an off-by-one shows). */
function pilFiles() {
	const py = `
import io, sys, json, base64
from PIL import Image
img = Image.new('RGB', (37, 23), (200, 30, 90))
out = []
for fmt, kw in json.loads(sys.argv[1]):
    b = io.BytesIO(); img.save(b, fmt, **kw); out.append(base64.b64encode(b.getvalue()).decode())
print(json.dumps(out))`;
	const arg = JSON.stringify(FORMATS.map(([, f, kw]) => [f, kw]));
	return JSON.parse(execFileSync('/usr/bin/python3', ['-c', py, arg])).map((s) => new Uint8Array(Buffer.from(s, 'base64')));
}

test('PNG, JPEG (baseline, progressive), GIF, WebP (VP8, VP8L), BMP: format and size from the header', () => {
	const files = pilFiles();
	FORMATS.forEach(([format], i) => {
		const info = sniffImage(files[i]);
		assert.deepEqual(info, { format, width: 37, height: 23 }, `${format} ${JSON.stringify(FORMATS[i][2])}`);
		assert.equal(headerProblem(files[i], files[i].length), null);
		assert.equal(trailerProblem(files[i], format), null);
	});
});

function pngHeader(w, h) {
	const sig = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
	const ihdr = Buffer.alloc(25);
	ihdr.writeUInt32BE(13, 0);
	ihdr.write('IHDR', 4, 'latin1');
	ihdr.writeUInt32BE(w, 8);
	ihdr.writeUInt32BE(h, 12);
	ihdr.set([8, 6, 0, 0, 0], 16);
	return new Uint8Array([...sig, ...ihdr]);
}

test('a 50,000×50,000 PNG header is refused from its header, with the numbers', () => {
	const head = pngHeader(50000, 50000);
	assert.deepEqual(sniffImage(head), { format: 'png', width: 50000, height: 50000 });
	const why = headerProblem(head, 1234);
	assert.match(why, /50,000×50,000 pixels is over the limit of 40 megapixels/);
	assert.equal(headerProblem(pngHeader(6000, 6000), 99), null, '36 MP is under the cap');
	assert.match(headerProblem(pngHeader(7000, 6000), 99), /over the limit/);
	assert.ok(7000 * 6000 > PIXEL_CAP);
	assert.match(headerProblem(pngHeader(0, 10), 99), /0×10/);
});

test('a JPEG whose SOF says 65535×65535 is refused; EXIF before the SOF is walked over', () => {
	const app1 = [0xff, 0xe1, 0x10, 0x02, ...new Array(0x1000).fill(0)];
	const sof = [0xff, 0xc0, 0x00, 0x11, 8, 0xff, 0xff, 0xff, 0xff, 3];
	const b = new Uint8Array([0xff, 0xd8, ...app1, ...sof, ...new Array(20).fill(0)]);
	assert.deepEqual(sniffImage(b), { format: 'jpeg', width: 65535, height: 65535 });
	assert.match(headerProblem(b, b.length), /over the limit/);
	assert.match(headerProblem(new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0x00]), 5), /truncated|frame header/);
});

test('empty files, text and other non-images are refused with a reason', () => {
	assert.equal(headerProblem(new Uint8Array(0), 0), 'the file is empty (0 bytes)');
	const text = new TextEncoder().encode('<img src=x onerror=alert(1)> just text renamed .png');
	assert.equal(sniffImage(text), null);
	assert.match(headerProblem(text, text.length), /^not an image/);
	assert.match(headerProblem(new TextEncoder().encode('%PDF-1.7\n'), 9), /^not an image/);
	assert.match(headerProblem(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0]), 10), /IHDR/);
});

test('WebP VP8X and AVIF/HEIC brands are recognised; AVIF size comes from ispe', () => {
	const vp8x = Buffer.alloc(30);
	vp8x.write('RIFF', 0, 'latin1'); vp8x.write('WEBP', 8, 'latin1'); vp8x.write('VP8X', 12, 'latin1');
	vp8x.writeUIntLE(9999, 24, 3); vp8x.writeUIntLE(4999, 27, 3);
	assert.deepEqual(sniffImage(new Uint8Array(vp8x)), { format: 'webp', width: 10000, height: 5000 });
	assert.match(headerProblem(new Uint8Array(vp8x), 100), /10,000×5,000 pixels is over/);
	const ftyp = Buffer.alloc(24);
	ftyp.writeUInt32BE(24, 0); ftyp.write('ftypavif', 4, 'latin1'); ftyp.write('mif1avif', 16, 'latin1');
	const ispe = Buffer.alloc(20);
	ispe.writeUInt32BE(20, 0); ispe.write('ispe', 4, 'latin1'); ispe.writeUInt32BE(640, 12); ispe.writeUInt32BE(480, 16);
	assert.deepEqual(sniffImage(new Uint8Array(Buffer.concat([ftyp, ispe]))), { format: 'avif', width: 640, height: 480 });
	const heic = Buffer.alloc(24);
	heic.writeUInt32BE(24, 0); heic.write('ftypheic', 4, 'latin1'); heic.write('mif1heic', 16, 'latin1');
	assert.deepEqual(sniffImage(new Uint8Array(heic)), { format: 'heic' });
	const mp4 = Buffer.alloc(24);
	mp4.writeUInt32BE(24, 0); mp4.write('ftypisom', 4, 'latin1'); mp4.write('isomavc1', 16, 'latin1');
	assert.equal(sniffImage(new Uint8Array(mp4)), null, 'a video is not an image');
});

test('truncated JPEG, PNG and GIF are refused as PIL refuses them; whole ones pass', () => {
	const [png, jpeg, , gif] = pilFiles();
	assert.match(trailerProblem(jpeg.subarray(0, jpeg.length - 40), 'jpeg'), /JPEG is truncated/);
	assert.match(trailerProblem(png.subarray(0, png.length - 12), 'png'), /PNG is truncated/);
	assert.match(trailerProblem(gif.subarray(0, gif.length - 1), 'gif'), /GIF is truncated/);
	const trailing = new Uint8Array([...jpeg, 0, 0, 0]);
	assert.equal(trailerProblem(trailing, 'jpeg'), null, 'bytes after EOI are tolerated');
	// PIL agrees the cut JPEG is broken (so refusing it keeps page and PyTorch on the same data)
	const py = 'import sys,io\nfrom PIL import Image\nb=sys.stdin.buffer.read()\ntry:\n  Image.open(io.BytesIO(b)).load(); print("ok")\nexcept Exception as e: print("refused")';
	const run = (b) => execFileSync('/usr/bin/python3', ['-c', py], { input: Buffer.from(b) }).toString().trim();
	assert.equal(run(jpeg.subarray(0, jpeg.length - 40)), 'refused');
	assert.equal(run(jpeg), 'ok');
});

test('a real PNG of 1×1 stored with zlib is read', () => {
	const crc = () => Buffer.alloc(4);
	const raw = deflateSync(Buffer.from([0, 1, 2, 3, 4]));
	const idat = Buffer.concat([Buffer.from([0, 0, 0, raw.length]), Buffer.from('IDAT'), raw, crc()]);
	const b = new Uint8Array([...pngHeader(1, 1), 0, 0, 0, 0, ...idat, 0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0, 0, 0, 0]);
	assert.deepEqual(sniffImage(b), { format: 'png', width: 1, height: 1 });
	assert.equal(trailerProblem(b, 'png'), null);
});
