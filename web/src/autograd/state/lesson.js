// The lesson's state: what the learner typed (mirrored in the URL hash), the
// engine, and the last inputs that evaluated cleanly with their results.
// When an edit fails, `problems` says where and `good` keeps the last good
// run, so the page never goes blank.
import { signal, computed, effect } from '@preact/signals';
import { engineInfo, engineError, runSteps } from '../../engine/lesson-engine.js';
import { parseLiteral, LiteralError } from './parse-literal.js';
import { readHash, writeHash, DEFAULTS } from './url-hash.js';
import { mainProgram, ASSIGN_STEP } from './programs.js';

/** The texts in the editable fields: { a, b, v, q }. */
export const inputs = signal(readHash(location.hash));

export { engineInfo, engineError, runSteps };

/** Per-field problems: { a?, b?, v?, q? } each { message, type, pos } (type: the Python exception class). */
export const problems = signal({});
/** True when the outputs shown are from an earlier, good edit. */
export const stale = computed(() => Object.values(problems.value).some(Boolean));

/**
 * The last run that went through: { inp: parsed inputs, forward: state after
 * `Q = ...`, state: state after backward }.
 * @type {import('@preact/signals').Signal<null | { inp: object, forward: object, state: object }>}
 */
export const good = signal(null);

/** True when any field differs from the tutorial's values. */
export const edited = computed(() => Object.entries(DEFAULTS).some(([k, v]) => inputs.value[k] !== v));

/** Puts every field back to the tutorial's values. */
export function resetInputs() {
	inputs.value = { ...DEFAULTS };
}

/** Updates one field; the recompute is debounced. */
export function setInput(key, text) {
	inputs.value = { ...inputs.value, [key]: text };
}

const FLOAT_ONLY = 'RuntimeError: Only Tensors of floating point and complex dtype can require gradients';

function parseAll(raw) {
	const parsed = { q: raw.q };
	const errs = {};
	for (const key of ['a', 'b', 'v']) {
		try {
			const lit = parseLiteral(raw[key]);
			if (key !== 'v' && !lit.isFloat) errs[key] = { type: 'RuntimeError', message: `${FLOAT_ONLY} (write ${key === 'a' ? '2.' : '6.'} rather than ${key === 'a' ? '2' : '6'})`, pos: -1 };
			parsed[key] = lit.data;
		} catch (err) {
			if (!(err instanceof LiteralError)) throw err;
			errs[key] = { type: 'SyntaxError', message: err.message, pos: err.pos };
		}
	}
	return { parsed, errs };
}

let generation = 0;

async function recompute(raw) {
	const mine = ++generation;
	const { parsed, errs } = parseAll(raw);
	if (Object.keys(errs).length) {
		problems.value = errs;
		return;
	}
	let result;
	try {
		result = await runSteps(mainProgram(parsed));
	} catch (err) {
		if (mine === generation) problems.value = { engine: { message: err.message, pos: -1 } };
		return;
	}
	if (mine !== generation) return;
	const steps = result.steps;
	const failed = steps.findIndex((s) => !s.ok);
	if (failed >= 0) {
		const key = ['a', 'b', 'q', 'q', 'v'][failed];
		const pos = failed === ASSIGN_STEP ? steps[failed].pos : -1;
		problems.value = { [key]: { message: steps[failed].error, type: steps[failed].type, pos: pos ?? -1 } };
		return;
	}
	problems.value = {};
	good.value = { inp: parsed, forward: steps[3].state, state: steps[4].state };
}

let timer = 0;
let first = true;
effect(() => {
	const raw = inputs.value;
	writeHash(raw);
	clearTimeout(timer);
	if (first) {
		first = false;
		recompute(raw);
	} else {
		timer = setTimeout(() => recompute(raw), 120);
	}
});

window.addEventListener('hashchange', () => {
	inputs.value = readHash(location.hash);
});
