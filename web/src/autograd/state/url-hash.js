// The learner's edits live in the URL hash so a link reproduces them:
//   #a=[2., 3.]&b=[6., 4.]&v=[1., 1.]&q=3*a**3 - b**2
// Only values that differ from the tutorial's are written.

/** The tutorial's values: In [2], In [5] and In [6] of the notebook. */
export const DEFAULTS = Object.freeze({ a: '[2., 3.]', b: '[6., 4.]', v: '[1., 1.]', q: '3*a**3 - b**2' });
const KEYS = Object.keys(DEFAULTS);

/**
 * Reads the inputs from a hash string (defaults for anything missing).
 * @param {string} hash e.g. location.hash
 */
export function readHash(hash) {
	const params = new URLSearchParams(hash.replace(/^#/, ''));
	const out = { ...DEFAULTS };
	for (const k of KEYS) if (params.has(k)) out[k] = params.get(k);
	return out;
}

/**
 * The hash for these inputs ('' when they are all the defaults).
 * @param {Record<string, string>} inputs
 */
export function toHash(inputs) {
	const params = new URLSearchParams();
	for (const k of KEYS) if (inputs[k] !== DEFAULTS[k]) params.set(k, inputs[k]);
	const s = params.toString().replace(/\+/g, '%20');
	return s ? `#${s}` : '';
}

/** Replaces the hash without adding a history entry per keystroke. */
export function writeHash(inputs) {
	const hash = toHash(inputs);
	if (hash === location.hash || (!hash && !location.hash)) return;
	history.replaceState(null, '', `${location.pathname}${location.search}${hash}`);
}
