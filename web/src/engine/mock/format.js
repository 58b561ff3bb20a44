// PyTorch's tensor repr (torch/_tensor_str.py, default print options) for the
// mock engine. The real engine formats in C; this twin lets the page be
// developed without the wasm build (`?mock=1`).

const LINEWIDTH = 80;

/** Python's '{:.4e}': two-digit exponent at least. */
function sci(x) {
	const [m, e] = x.toExponential(4).split('e');
	const sign = e[0] === '-' ? '-' : '+';
	const digits = e.replace(/^[+-]/, '');
	return `${m}e${sign}${digits.padStart(2, '0')}`;
}

function special(x) {
	if (Number.isNaN(x)) return 'nan';
	return x > 0 ? 'inf' : '-inf';
}

/** Builds the element formatter PyTorch would pick for these values. */
function formatter(values, dtype) {
	if (dtype === 'bool') return (x) => (x ? 'True' : 'False');
	const finite = values.filter(Number.isFinite);
	const nonzero = finite.map(Math.abs).filter((x) => x > 0);
	const intMode = finite.every((x) => Math.ceil(x) === x);
	let sciMode = false;
	if (nonzero.length) {
		const max = Math.max(...nonzero);
		const min = Math.min(...nonzero);
		sciMode = max / min > 1000 || max > 1e8 || (!intMode && min < 1e-4);
	}
	return (x) => {
		if (!Number.isFinite(x)) return special(x);
		if (sciMode) return sci(x);
		return intMode ? `${x.toFixed(0)}.` : x.toFixed(4);
	};
}

function body(t, fmt, width, indent) {
	const pad = (s) => ' '.repeat(width - s.length) + s;
	const rec = (offset, dim, ind) => {
		const n = t.shape[dim];
		if (dim === t.shape.length - 1) {
			const items = [];
			for (let i = 0; i < n; i++) items.push(pad(fmt(t.data[offset + i])));
			const perLine = Math.max(1, Math.floor((LINEWIDTH - ind) / (width + 2)));
			const lines = [];
			for (let i = 0; i < items.length; i += perLine) lines.push(items.slice(i, i + perLine).join(', '));
			return `[${lines.join(`,\n${' '.repeat(ind + 1)}`)}]`;
		}
		const stride = t.shape.slice(dim + 1).reduce((p, d) => p * d, 1);
		const parts = [];
		for (let i = 0; i < n; i++) parts.push(rec(offset + i * stride, dim + 1, ind + 1));
		const sep = `,${'\n'.repeat(t.shape.length - dim - 1)}${' '.repeat(ind + 1)}`;
		return `[${parts.join(sep)}]`;
	};
	return rec(0, 0, indent);
}

/**
 * `repr(tensor)` as PyTorch prints it, e.g. `tensor([-12.,  65.], grad_fn=<SubBackward0>)`.
 * @param {{ shape: number[], data: ArrayLike<number>, dtype?: string,
 *           requires_grad?: boolean, leaf?: boolean, grad_fn?: { name: string } | null }} t
 */
export function tensorRepr(t) {
	const values = Array.from(t.data);
	const fmt = formatter(values, t.dtype);
	const width = Math.max(0, ...values.map((x) => fmt(x).length));
	const text = t.shape.length === 0 ? fmt(values[0]) : body(t, fmt, width, 'tensor('.length);
	let suffix = '';
	if (t.grad_fn) suffix = `, grad_fn=<${t.grad_fn.name}>`;
	else if (t.requires_grad) suffix = ', requires_grad=True';
	return `tensor(${text}${suffix})`;
}

/** `tensor.tolist()`: nested arrays, a number for 0-d; non-finite → null as in the JSON contract. */
export function toList(t) {
	const fix = (x) => (t.dtype === 'bool' ? !!x : Number.isFinite(x) ? x : null);
	if (t.shape.length === 0) return fix(t.data[0]);
	const rec = (offset, dim) => {
		const stride = t.shape.slice(dim + 1).reduce((p, d) => p * d, 1);
		const out = [];
		for (let i = 0; i < t.shape[dim]; i++) {
			out.push(dim === t.shape.length - 1 ? fix(t.data[offset + i]) : rec(offset + i * stride, dim + 1));
		}
		return out;
	};
	return rec(0, 0);
}
