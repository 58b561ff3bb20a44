// fixtures.mjs: the ResNet-18 fixtures for node tests. Generates them with the real PyTorch
// (tests/resnet/gen_resnet_fixtures.py, ~15 s) into build/resnet-fixtures unless they are
// there and newer than the generator, then reads the manifest and .npy files.
//   GB_RESNET_FIXTURES=dir   use (and fill) another folder
//   GB_TORCH_PYTHON=path     the Python that has torch 1.13 (default /usr/bin/python3)
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const FIXTURES = process.env.GB_RESNET_FIXTURES ?? join(ROOT, 'build', 'resnet-fixtures');
export const PYTHON = process.env.GB_TORCH_PYTHON ?? '/usr/bin/python3';
const GEN = join(ROOT, 'tests', 'resnet', 'gen_resnet_fixtures.py');
export const CHECK_WRITTEN = join(ROOT, 'tests', 'resnet', 'check_written.py');

/** Whether dir's manifest.json is newer than every file in `sources`. */
function isCurrent(dir, sources) {
	const manifest = join(dir, 'manifest.json');
	if (!existsSync(manifest)) return false;
	const made = statSync(manifest).mtimeMs;
	return sources.every((f) => statSync(f).mtimeMs <= made);
}

/**
 * Runs the generator sources[0] (`python sources[0] DIR`) unless dir's manifest.json is newer
 * than every file in `sources` (the generator, what it imports, the data it reads); returns
 * the parsed manifest.json.
 * NOTE: the generator writes a sibling folder that is renamed into place, so a reader never
 * sees a half-written set, and of two processes generating at once the second keeps the first's.
 */
export function ensureGenerated(sources, dir) {
	if (!isCurrent(dir, sources)) {
		const tmp = `${dir}.tmp-${process.pid}`;
		rmSync(tmp, { recursive: true, force: true });
		const r = spawnSync(PYTHON, [sources[0], tmp], { encoding: 'utf8', timeout: 300_000 });
		if (r.status !== 0) {
			rmSync(tmp, { recursive: true, force: true });
			throw new Error(`${sources[0]} failed (${r.status}): ${r.stderr || r.error}`);
		}
		if (isCurrent(dir, sources)) rmSync(tmp, { recursive: true, force: true });
		else {
			rmSync(dir, { recursive: true, force: true });
			renameSync(tmp, dir);
		}
	}
	return JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
}

/** Makes sure the fixtures exist and are current; returns the parsed manifest.json. */
export const ensureFixtures = (dir = FIXTURES) => ensureGenerated([GEN], dir);

// The finetuning lesson's fixtures (gen_frozen_fixtures.py, ~15 s, ~220 MB), which import
// gen_resnet_fixtures.py's model.   GB_FROZEN_FIXTURES=dir   use (and fill) another folder
export const FROZEN_FIXTURES = process.env.GB_FROZEN_FIXTURES ?? join(ROOT, 'build', 'frozen-fixtures');
const FROZEN_GEN = join(ROOT, 'tests', 'resnet', 'gen_frozen_fixtures.py');
export const ensureFrozenFixtures = (dir = FROZEN_FIXTURES) => ensureGenerated([FROZEN_GEN, GEN], dir);

const NPY_DTYPES = { '<f4': Float32Array, '<f8': Float64Array, '<i8': BigInt64Array, '<i4': Int32Array, '|u1': Uint8Array };

/**
 * Reads a .npy file (format 1.0/2.0, C order, little-endian).
 * @returns {{dtype: string, shape: number[], data: Float32Array|Float64Array|BigInt64Array|Int32Array}}
 */
export function readNpy(path) {
	const buf = readFileSync(path);
	if (buf.toString('latin1', 0, 6) !== '\x93NUMPY') throw new Error(`${path}: not a .npy file`);
	const major = buf[6];
	const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
	const start = major === 1 ? 10 : 12;
	const header = buf.toString('latin1', start, start + hlen);
	const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
	if (/'fortran_order':\s*True/.test(header)) throw new Error(`${path}: Fortran order`);
	const shape = (/'shape':\s*\(([^)]*)\)/.exec(header)?.[1] ?? '')
		.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
	const Ctor = NPY_DTYPES[descr];
	if (!Ctor) throw new Error(`${path}: dtype ${descr} not supported`);
	const off = start + hlen;
	const n = shape.reduce((a, b) => a * b, 1);
	// copy: the Buffer's offset need not be aligned for the typed array
	const data = new Ctor(buf.buffer.slice(buf.byteOffset + off, buf.byteOffset + off + n * Ctor.BYTES_PER_ELEMENT));
	return { dtype: descr, shape, data };
}

/** Reads one fixture file by its manifest name. */
export const npy = (rel, dir = FIXTURES) => readNpy(join(dir, rel));

/** Reads a {folder, keys} group of the manifest into {key: npy}. */
export function npyGroup(group, dir = FIXTURES) {
	return Object.fromEntries(group.keys.map((k) => [k, readNpy(join(dir, group.folder, `${k}.npy`))]));
}

/**
 * The manifest's tolerance rule: max|got - expected| <= atol + rtol * max|expected|.
 * @returns {{ok: boolean, maxErr: number, scale: number}}
 */
export function allclose(got, expected, { rtol, atol }) {
	if (got.length !== expected.length) return { ok: false, maxErr: Infinity, scale: NaN };
	let maxErr = 0;
	let scale = 0;
	for (let i = 0; i < expected.length; i++) {
		const e = Number(expected[i]);
		const d = Math.abs(Number(got[i]) - e);
		if (Number.isNaN(d)) return { ok: false, maxErr: NaN, scale: NaN, firstNaN: i };
		if (d > maxErr) maxErr = d;
		scale = Math.max(scale, Math.abs(e));
	}
	return { ok: maxErr <= atol + rtol * scale, maxErr, scale };
}

/** Runs check_written.py on a file the engine wrote; returns its JSON report (and exit code). */
export function checkWritten(file, args = []) {
	const r = spawnSync(PYTHON, [CHECK_WRITTEN, file, '--json', ...args], { encoding: 'utf8', timeout: 120_000 });
	let report;
	try { report = JSON.parse(r.stdout); } catch { report = { ok: false, stdout: r.stdout, stderr: r.stderr }; }
	return { code: r.status, ...report };
}

/** The case with this id from the manifest. */
export const caseOf = (manifest, id) => {
	const c = manifest.cases.find((x) => x.id === id);
	if (!c) throw new Error(`no case ${id} in the manifest`);
	return c;
};

// The fine-tuning engine calls' fixtures (gen_finetune_fixtures.py, ~6 s, ~70 MB), which import
// gen_resnet_fixtures.py's backbone.   GB_FINETUNE_FIXTURES=dir   use (and fill) another folder
export const FINETUNE_FIXTURES = process.env.GB_FINETUNE_FIXTURES ?? join(ROOT, 'build', 'finetune-fixtures');
const FINETUNE_GEN = join(ROOT, 'tests', 'resnet', 'gen_finetune_fixtures.py');
export const ensureFinetuneFixtures = (dir = FINETUNE_FIXTURES) => ensureGenerated([FINETUNE_GEN, GEN], dir);
