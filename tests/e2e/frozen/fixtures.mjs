// fixtures.mjs: the frozen-parameters lesson's test fixtures (weights, broken files, printouts,
// gradients, top-5), made by the real PyTorch with gen_frozen_page_fixtures.py (~5 s, ~230 MB)
// into build/e2e-frozen-fixtures unless they are there and newer than everything they come from.
//   GB_FROZEN_PAGE_FIXTURES=dir   use (and fill) another folder
//   GB_TORCH_PYTHON=path     the Python that has torch 1.13 (default /usr/bin/python3)
// See README.md here for manifest.json and every file.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { ensureGenerated } from '../../resnet/fixtures.mjs';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const FROZEN_FIXTURES = process.env.GB_FROZEN_PAGE_FIXTURES ?? join(ROOT, 'build', 'e2e-frozen-fixtures');
// The generator first, then what it imports and reads: the fixtures are stale when any is newer.
const SOURCES = [join(ROOT, 'tests', 'e2e', 'frozen', 'gen_frozen_page_fixtures.py'),
	join(ROOT, 'tests', 'resnet', 'gen_resnet_fixtures.py'), join(ROOT, 'tests', 'resnet', 'check_written.py'),
	join(ROOT, 'assets', 'samples', 'samples.json'), join(ROOT, 'assets', 'imagenet_classes.json')];

/**
 * Makes sure the fixtures exist and are current (tests/resnet/fixtures.mjs, ensureGenerated);
 * call it once (serve.mjs) rather than from every worker.
 * @returns {{dir: string, manifest: object}} the folder and its parsed manifest.json
 */
export function ensureFrozenFixtures(dir = FROZEN_FIXTURES) {
	return { dir, manifest: ensureGenerated(SOURCES, dir) };
}
