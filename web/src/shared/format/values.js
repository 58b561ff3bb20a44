// Short, readable numbers for the graph and the Jacobian (the printouts
// themselves always come from the engine's repr fields).

/**
 * One number: integers as is, others to 4 significant digits; null → nan.
 * @param {number | boolean | null} x
 */
export function num(x) {
	if (x === null) return 'nan';
	if (typeof x === 'boolean') return x ? 'True' : 'False';
	if (Number.isInteger(x)) return String(x).replace('-', '−');
	const abs = Math.abs(x);
	const s = abs !== 0 && (abs < 1e-3 || abs >= 1e6) ? x.toExponential(2) : String(Number(x.toPrecision(4)));
	return s.replace('-', '−');
}

/**
 * A nested list as "[1, 2]" / "[[1, 2], [3, 4]]"; a bare number for 0-d.
 * @param {any} v
 */
export function list(v) {
	if (v === undefined) return '—';
	if (Array.isArray(v)) return `[${v.map(list).join(', ')}]`;
	return num(v);
}

/** Flattens a nested list (or a number) into an array. */
export function flat(v) {
	return Array.isArray(v) ? v.flatMap(flat) : [v];
}

/** The tensor entry called `name` in a state JSON, or undefined. */
export function tensorIn(state, name) {
	return state?.tensors?.find((t) => t.name === name);
}
