// Generated training pictures for the studio's e2e tests: classes a random backbone can tell
// apart (solid red, green, blue, with seeded noise so no two images are equal), written as PNG by
// sharp. Lossless, so the page decodes exactly the pixels PIL reads in the PyTorch checks.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';

export const COLOURS = { red: [220, 30, 30], green: [30, 200, 40], blue: [30, 50, 220] };

function rng(seed) {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

/** One w×h PNG of `rgb` with ±noise per channel (seeded). */
export async function colourPng(rgb, seed, { width = 96, height = 80, noise = 40 } = {}) {
	const r = rng(seed);
	const px = Buffer.alloc(width * height * 3);
	for (let i = 0; i < width * height; i++) {
		for (let c = 0; c < 3; c++) px[i * 3 + c] = Math.max(0, Math.min(255, Math.round(rgb[c] + (r() - 0.5) * 2 * noise)));
	}
	return sharp(px, { raw: { width, height, channels: 3 } }).png().toBuffer();
}

/**
 * Writes `perClass` PNGs of each colour under dir/<colour>/ and returns
 * { classes: [name], files: { name: [path] } }.
 */
export async function writeColourClasses(dir, { perClass = 10, names = Object.keys(COLOURS), seed = 1 } = {}) {
	const files = {};
	for (const [k, name] of names.entries()) {
		const sub = join(dir, name);
		mkdirSync(sub, { recursive: true });
		files[name] = [];
		for (let i = 0; i < perClass; i++) {
			const path = join(sub, `${name}-${String(i).padStart(3, '0')}.png`);
			writeFileSync(path, await colourPng(COLOURS[name], seed * 7919 + k * 1000 + i));
			files[name].push(path);
		}
	}
	return { classes: names, files };
}

/** The k-th of n colours spread around the hue circle (full saturation, value 0.85), as RGB. */
export function hueColour(k, n) {
	const h = (6 * k) / n, v = 217, x = Math.round(v * (1 - Math.abs((h % 2) - 1)));
	const table = [[v, x, 0], [x, v, 0], [0, v, x], [0, x, v], [x, 0, v], [v, 0, x]];
	return table[Math.floor(h) % 6];
}
