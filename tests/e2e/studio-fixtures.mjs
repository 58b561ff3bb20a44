// Helpers for the studio's e2e tests: images made here (PNG encoded in Node from pixels we choose;
// JPEG written by Debian's PIL at test time), hostile files, and opening part 3.
import { deflateSync } from 'node:zlib';
import { execFileSync } from 'node:child_process';
import { crc32 } from '../../js/safe-zip.mjs';
import { expect } from './fixtures.mjs';

function chunk(type, data) {
	const len = Buffer.alloc(4);
	len.writeUInt32BE(data.length);
	const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
	const crc = Buffer.alloc(4);
	crc.writeUInt32BE(crc32(body));
	return Buffer.concat([len, body, crc]);
}

/**
 * An RGB PNG of w×h: background `bg`, a filled square of colour `fg` whose position depends on
 * `seed` (so every image differs: the studio skips duplicates within a class).
 */
export function png(w, h, bg, fg = bg, seed = 0) {
	const raw = Buffer.alloc((w * 3 + 1) * h);
	const s = Math.max(2, Math.floor(Math.min(w, h) / 3));
	const x0 = seed % Math.max(1, w - s);
	const y0 = Math.floor(seed / Math.max(1, w - s)) % Math.max(1, h - s);
	for (let y = 0; y < h; y++) {
		raw[y * (w * 3 + 1)] = 0;
		for (let x = 0; x < w; x++) {
			const inside = x >= x0 && x < x0 + s && y >= y0 && y < y0 + s;
			raw.set(inside ? fg : bg, y * (w * 3 + 1) + 1 + x * 3);
		}
	}
	raw.set([seed & 255, (seed >> 8) & 255, 7], 1);   // the top-left pixel numbers the image
	const ihdr = Buffer.alloc(13);
	ihdr.writeUInt32BE(w, 0);
	ihdr.writeUInt32BE(h, 4);
	ihdr.set([8, 2, 0, 0, 0], 8);
	return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

/** Only a PNG signature and an IHDR claiming w×h (no pixel data): must be refused undecoded. */
export function pngHeaderOnly(w, h) {
	const ihdr = Buffer.alloc(13);
	ihdr.writeUInt32BE(w, 0);
	ihdr.writeUInt32BE(h, 4);
	ihdr.set([8, 6, 0, 0, 0], 8);
	return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IEND', Buffer.alloc(0))]);
}

/** A JPEG written by PIL (quality 90) of a w×h gradient. */
export function jpeg(w = 64, h = 48) {
	const py = `import io,sys
from PIL import Image
im = Image.new('RGB', (${w}, ${h}))
im.putdata([(x * 4 % 256, y * 5 % 256, 128) for y in range(${h}) for x in range(${w})])
b = io.BytesIO(); im.save(b, 'JPEG', quality=90); sys.stdout.buffer.write(b.getvalue())`;
	return execFileSync('/usr/bin/python3', ['-c', py]);
}

export const RED = [220, 30, 30];
export const BLUE = [30, 60, 220];
export const GREEN = [30, 180, 60];
export const WHITE = [250, 250, 250];

/** n distinct PNGs of one colour scheme, as setInputFiles payloads. */
export function pngFiles(n, prefix, bg, fg = WHITE, size = 24) {
	return Array.from({ length: n }, (_, i) => ({ name: `${prefix}-${String(i).padStart(4, '0')}.png`, mimeType: 'image/png', buffer: png(size, size, bg, fg, i) }));
}

/** Opens the page and part 3 (through the contents) and waits for the project to load. */
export async function openStudio(page, lesson) {
	await lesson.open();
	await page.getByRole('navigation', { name: 'Contents' }).getByRole('link', { name: 'Your classes and images' }).click();
	await expect(page.getByTestId('studio')).toHaveAttribute('data-ready', 'yes', { timeout: 20_000 });
}

/** The class card of a class by its position (0-based). */
export const card = (page, i) => page.getByTestId('class-card').nth(i);
