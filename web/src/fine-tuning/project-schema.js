// project-schema.js: the project file's `project.json`, checked field by field before anything of
// it is used. Known keys only (an unknown key is refused, so is `__proto__`, `constructor` or
// `prototype` anywhere, even inside free-form data), types and ranges, references between
// classes, images and runs, and every file the JSON names must be in the zip. Pure (no DOM):
// tests/node/project-file.test.mjs.
import { checkSettings } from '../../../js/finetune-settings.mjs';
import { checkLabel, MAX_CLASSES } from './project-model.js';

export const FORMAT = 'gradbox-studio-project';
export const VERSION = 1;
export const MAX_IMAGES = 50_000;
const RUN_STATUS = ['running', 'paused', 'done', 'stopped', 'diverged', 'interrupted'];
const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);

/** Why a project file was refused; `message` names the field. */
export class ProjectFileError extends Error {
	constructor(message) {
		super(message);
		this.name = 'ProjectFileError';
	}
}

const fail = (path, what) => { throw new ProjectFileError(`project.json: ${path} ${what}`); };

/** A plain object with only `known` keys (each [check, required]); returns a fresh null-free copy. */
function obj(v, path, known) {
	if (!v || typeof v !== 'object' || Array.isArray(v)) fail(path, 'must be an object');
	for (const k of Object.keys(v)) {
		if (FORBIDDEN.has(k)) fail(`${path}.${k}`, 'is a forbidden key');
		if (!Object.hasOwn(known, k)) fail(`${path}.${k}`, 'is not a known field');
	}
	const out = {};
	for (const [k, [check, required]] of Object.entries(known)) {
		if (!Object.hasOwn(v, k) || v[k] === undefined) {
			if (required) fail(`${path}.${k}`, 'is missing');
			continue;
		}
		out[k] = check(v[k], `${path}.${k}`);
	}
	return out;
}

const str = (max, re) => (v, p) => {
	if (typeof v !== 'string' || v.length > max) fail(p, `must be text of at most ${max} characters`);
	if (re && !re.test(v)) fail(p, 'has characters that are not allowed');
	return v;
};
const num = (lo, hi, whole = false) => (v, p) => {
	if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi || (whole && !Number.isInteger(v))) fail(p, `must be ${whole ? 'a whole number' : 'a number'} from ${lo} to ${hi}`);
	return v;
};
const numOrNull = (v, p) => (v === null ? null : num(-1e300, 1e300)(v, p));
const arr = (item, max) => (v, p) => {
	if (!Array.isArray(v)) fail(p, 'must be a list');
	if (v.length > max) fail(p, `has ${v.length} items; at most ${max} are allowed`);
	return v.map((x, i) => item(x, `${p}[${i}]`));
};
const oneOf = (choices) => (v, p) => {
	if (!choices.includes(v)) fail(p, `must be one of ${choices.join(', ')}`);
	return v;
};
const ID = str(100, /^[A-Za-z0-9_-]+$/);
const SHA = str(64, /^[0-9a-f]{64}$/);
const FILE = str(200, /^(images|runs)\/[A-Za-z0-9_.-]+$/);
const TIME = num(0, 8.64e15, true);

/** Free-form data (a run's evaluation): JSON values only, bounded, no forbidden keys. */
function plainData(v, p, budget = { n: 0 }, depth = 0) {
	if (++budget.n > 2_000_000) fail(p, 'is too large');
	if (depth > 10) fail(p, 'is nested too deeply');
	if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
	if (typeof v === 'number') return v;
	if (Array.isArray(v)) return v.map((x, i) => plainData(x, `${p}[${i}]`, budget, depth + 1));
	if (typeof v === 'object') {
		const out = {};
		for (const k of Object.keys(v)) {
			if (FORBIDDEN.has(k)) fail(`${p}.${k}`, 'is a forbidden key');
			out[k] = plainData(v[k], `${p}.${k}`, budget, depth + 1);
		}
		return out;
	}
	return fail(p, 'is not plain data');
}

function settings(v, p) {
	obj(v, p, Object.fromEntries(Object.keys(checkSettings()).map((k) => [k, [(x) => x, false]])));
	try {
		return checkSettings(v);
	} catch (err) {
		return fail(p, `is wrong: ${err.message}`);
	}
}

function classes(v, p) {
	const list = arr((c, q) => obj(c, q, { id: [ID, true], label: [str(400), true] }), MAX_CLASSES)(v, p);
	if (!list.length) fail(p, 'must hold at least one class');
	const seen = [];
	list.forEach((c, i) => {
		try { c.label = checkLabel(c.label, seen); } catch (err) { fail(`${p}[${i}].label`, `is refused: ${err.message}`); }
		if (seen.some((s) => s.id === c.id)) fail(`${p}[${i}].id`, 'appears twice');
		seen.push(c);
	});
	return list;
}

const historyItem = (v, p) => {
	if (!v || typeof v !== 'object' || Array.isArray(v)) fail(p, 'must be an object');
	const out = {};
	for (const k of Object.keys(v)) {
		if (FORBIDDEN.has(k) || !/^[A-Za-z][A-Za-z0-9]{0,40}$/.test(k)) fail(`${p}.${k}`, 'is not a known field');
		out[k] = numOrNull(v[k], `${p}.${k}`);
	}
	if (!Number.isInteger(out.epoch) || out.epoch < 0) fail(`${p}.epoch`, 'must be a whole number');
	return out;
};

const run = (v, p) => obj(v, p, {
	id: [ID, true], settings: [settings, true], classes: [classes, true], history: [arr(historyItem, 100_000), true],
	status: [oneOf(RUN_STATUS), true], startedAt: [TIME, true], endedAt: [TIME, false], message: [str(2000), false],
	checkpoint: [(c, q) => (c === null ? null : obj(c, q, { epoch: [num(0, 1e6, true), true], file: [FILE, true], optimizerFile: [FILE, false] })), false],
	evaluation: [(e, q) => plainData(e, q), false], summary: [(e, q) => plainData(e, q), false],
	weights: [str(80, /^([0-9a-f]{64}|random-[0-9]{1,16})$/), false],
});

const image = (v, p) => obj(v, p, {
	id: [ID, true], classId: [ID, true], name: [str(1000), true], type: [str(100), true], addedAt: [TIME, true],
	sha256: [SHA, true], file: [FILE, true],
});

/**
 * Parses and checks project.json against the zip's entry names.
 * @param {string} text project.json
 * @param {Set<string> | Map<string, unknown>} entries names present in the zip
 * @returns {{ project: { name, classes, settings }, images: object[], runs: object[] }}
 */
export function parseProjectJson(text, entries) {
	let v;
	try { v = JSON.parse(text); } catch (err) { throw new ProjectFileError(`project.json is not valid JSON (${err.message})`); }
	const doc = obj(v, 'the file', {
		format: [oneOf([FORMAT]), true], version: [oneOf([VERSION]), true],
		project: [(x, p) => obj(x, p, { name: [str(200), true], classes: [classes, true], settings: [settings, true] }), true],
		images: [arr(image, MAX_IMAGES), true], runs: [arr(run, 1000), true],
	});
	const classIds = new Set(doc.project.classes.map((c) => c.id));
	const ids = new Set();
	doc.images.forEach((im, i) => {
		if (!classIds.has(im.classId)) fail(`images[${i}].classId`, 'names a class the project does not have');
		if (ids.has(im.id)) fail(`images[${i}].id`, 'appears twice');
		ids.add(im.id);
	});
	const files = [...doc.images.map((im) => im.file), ...doc.runs.filter((r) => r.checkpoint).flatMap((r) => [r.checkpoint.file, r.checkpoint.optimizerFile].filter(Boolean))];
	const missing = files.filter((f) => !entries.has(f));
	if (missing.length) {
		throw new ProjectFileError(`the file is missing ${missing.length} entr${missing.length === 1 ? 'y' : 'ies'}: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}`);
	}
	const runIds = new Set();
	doc.runs.forEach((r, i) => {
		if (runIds.has(r.id)) fail(`runs[${i}].id`, 'appears twice');
		runIds.add(r.id);
	});
	return doc;
}
