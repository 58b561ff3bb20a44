// Helpers of the studio's training e2e specs (studio-train.spec.mjs, studio-webcam.spec.mjs):
// open part 3 on the stand-in hub's weights, fill three colour classes, set settings, train,
// predict on a new picture.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { expect, hubUrl, fixturePath } from '../frozen-fixtures.mjs';
import { COLOURS, colourPng } from './images.mjs';

export const PY = process.env.GB_TORCH_PYTHON ?? '/usr/bin/python3';
export const CHECK = fileURLToPath(new URL('./check_export.py', import.meta.url));
export const BACKBONE = () => fixturePath('weights/resnet18_seed0.safetensors');
export const NAMES = ['red', 'green', 'blue'];
// Measured on this machine with the seed-0 random backbone, 10 images per class, 3 epochs, fc
// only: 6/6 held-out images right in every run. The floor leaves room for any seed.
export const ACCURACY_FLOOR = 0.8;

/** Opens the page (weights from the stand-in hub), then part 3, and waits for the project. */
export async function openStudio(page, frozen) {
	await frozen.open(hubUrl());
	await page.evaluate(() => document.getElementById('h-studio')?.scrollIntoView());
	await expect(page.getByTestId('studio')).toHaveAttribute('data-ready', 'yes', { timeout: 30_000 });
	await expect(page.getByTestId('training')).toBeVisible();
}

/** Three colour classes of `perClass` PNGs: the first class through the file picker, the rest through window.gradboxStudio. */
export async function fillClasses(page, { perClass = 10, seed = 1 } = {}) {
	const files = {};
	for (const [k, name] of NAMES.entries()) {
		files[name] = [];
		for (let i = 0; i < perClass; i++) files[name].push({ name: `${name}-${i}.png`, mimeType: 'image/png', buffer: await colourPng(COLOURS[name], seed * 7919 + k * 1000 + i) });
	}
	await page.evaluate(async (names) => {
		const s = window.gradboxStudio;
		await s.ready();
		const have = s.classes();
		for (let i = 0; i < names.length; i++) {
			if (have[i]) await s.renameClass(have[i].id, names[i]);
			else await s.addClass(names[i]);
		}
	}, NAMES);
	const first = page.getByTestId('class-card').first().locator('input[type=file]:not([webkitdirectory])').first();
	await first.setInputFiles(files.red);
	for (const name of NAMES.slice(1)) {
		const list = files[name].map((f) => ({ name: f.name, type: f.mimeType, bytes: [...f.buffer] }));
		await page.evaluate(([n, l]) => window.gradboxStudio.addFiles(n, l), [name, list]);
	}
	await expect(page.getByTestId('class-summary')).toContainText(`${NAMES.length * perClass} images`);
}

/** Types a setting into its field (committed on change). */
export async function setSetting(page, field, value) {
	const input = page.getByTestId(`set-${field}`);
	await input.fill(String(value));
	await input.press('Tab');
	await expect(page.getByTestId(`set-${field}-note`)).not.toHaveAttribute('role', 'alert');
}

export async function chooseUnfreeze(page, value) {
	await page.getByTestId('set-unfreeze').locator(`input[value="${value}"]`).check();
}

export async function train(page) {
	await page.getByTestId('train').click();
	await expect(page.getByTestId('training')).not.toHaveAttribute('data-live', 'idle');
}

export async function waitDone(page, status = 'done', timeout = 180_000) {
	await expect(page.getByTestId('training')).toHaveAttribute('data-live', 'idle', { timeout });
	await expect(page.getByTestId('last-run')).toHaveAttribute('data-status', status);
}

/** Predicts on a new PNG of `colour` through the file picker; returns { top, logits, file }. */
export async function predictColour(page, colour, seed = 99) {
	const buffer = await colourPng(COLOURS[colour], seed);
	await page.getByTestId('predict-file').setInputFiles({ name: `new-${colour}.png`, mimeType: 'image/png', buffer });
	const result = page.getByTestId('predict-result');
	await expect(result).toBeVisible({ timeout: 30_000 });
	await expect(result.locator('.file-name')).toHaveText(`new-${colour}.png`);
	const file = join(mkdtempSync(join(tmpdir(), 'gb-studio-')), `new-${colour}.png`);
	writeFileSync(file, buffer);
	return { top: Number(await result.getAttribute('data-top')), logits: JSON.parse(await result.getAttribute('data-logits')), file };
}
