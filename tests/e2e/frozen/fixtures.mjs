// fixtures.mjs: the frozen-parameters lesson's test fixtures (weights, broken files, printouts,
// gradients, top-5), made by the real PyTorch with gen_frozen_page_fixtures.py (~5 s, ~230 MB)
// into build/e2e-frozen-fixtures unless they are there and newer than everything they come from.
//   GB_FROZEN_FIXTURES=dir   use (and fill) another folder
//   GB_TORCH_PYTHON=path     the Python that has torch 1.13 (default /usr/bin/python3)
// See README.md here for manifest.json and every file.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const FROZEN_FIXTURES = process.env.GB_FROZEN_FIXTURES ?? join(ROOT, 'build', 'e2e-frozen-fixtures');
const PYTHON = process.env.GB_TORCH_PYTHON ?? '/usr/bin/python3';
const GEN = join(ROOT, 'tests', 'e2e', 'frozen', 'gen_frozen_page_fixtures.py');
// The fixtures are stale when any of these is newer than manifest.json.
const SOURCES = [GEN, join(ROOT, 'tests', 'resnet', 'gen_resnet_fixtures.py'),
	join(ROOT, 'tests', 'resnet', 'check_written.py'), join(ROOT, 'assets', 'samples', 'samples.json'),
	join(ROOT, 'assets', 'imagenet_classes.json')];

function isCurrent(dir) {
	const manifest = join(dir, 'manifest.json');
	if (!existsSync(manifest)) return false;
	const made = statSync(manifest).mtimeMs;
	return SOURCES.every((f) => statSync(f).mtimeMs <= made);
}

/**
 * Makes sure the fixtures exist and are current, generating them if not.
 * NOTE: generation writes a sibling folder and renames it into place, so a reader never sees a
 * half-written set; still, call this once (Playwright globalSetup) rather than from every worker.
 * @returns {{dir: string, manifest: object}} the folder and its parsed manifest.json
 */
export function ensureFrozenFixtures(dir = FROZEN_FIXTURES) {
	if (!isCurrent(dir)) {
		const tmp = `${dir}.tmp-${process.pid}`;
		rmSync(tmp, { recursive: true, force: true });
		const r = spawnSync(PYTHON, [GEN, tmp], { encoding: 'utf8', timeout: 120_000 });
		if (r.status !== 0) {
			rmSync(tmp, { recursive: true, force: true });
			throw new Error(`${GEN} failed (${r.status}): ${r.stderr || r.error}`);
		}
		if (isCurrent(dir)) rmSync(tmp, { recursive: true, force: true });   // another process won the race
		else {
			rmSync(dir, { recursive: true, force: true });
			renameSync(tmp, dir);
		}
	}
	return { dir, manifest: JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) };
}
