// A tiny eager autograd for the mock engine: tensors, one backward node per
// op (PyTorch's node names and saved-attribute names), and a backward pass
// that frees saved tensors unless retain_graph. Float64 maths, float32 storage.
import { ExprError } from './expr.js';

const SUP = { '-': '⁻', 0: '⁰', 1: '¹', 2: '²', 3: '³', 4: '⁴', 5: '⁵', 6: '⁶', 7: '⁷', 8: '⁸', 9: '⁹', '.': '·' };
const sup = (n) => String(n).split('').map((c) => SUP[c] ?? c).join('');
const paren = (s) => (/^[\w.]+$/.test(s) ? s : `(${s})`);
const numel = (shape) => shape.reduce((p, d) => p * d, 1);

/** Makes a tensor; `data` is a flat array. */
export function makeTensor(shape, data, extra = {}) {
	return { shape, data: data.map(Math.fround), dtype: 'float', requires_grad: false, leaf: true,
		grad_fn: null, grad: null, ...extra };
}

const isT = (x) => typeof x === 'object' && x !== null;
const at = (x, i) => (isT(x) ? x.data[x.data.length === 1 ? 0 : i] : x);

function outShape(x, y) {
	const sx = isT(x) ? x.shape : [];
	const sy = isT(y) ? y.shape : [];
	if (numel(sx) === 1 && sx.length <= sy.length) return sy;
	if (numel(sy) === 1 && sy.length <= sx.length) return sx;
	if (sx.length === sy.length && sx.every((d, i) => d === sy[i])) return sx;
	const dim = sx.findIndex((d, i) => d !== sy[i]);
	throw new ExprError(`RuntimeError: The size of tensor a (${sx[dim]}) must match the size of tensor b (${sy[dim]}) at non-singleton dimension ${dim}`, -1);
}

/** Sums a broadcast gradient back to `x`'s shape (scalar operands only). */
const reduceTo = (x, g) => (x.data.length === 1 && g.length > 1 ? [g.reduce((s, v) => s + v, 0)] : g);

/**
 * Records `out = f(inputs)`. When an input needs a gradient (and not under
 * no_grad), `out` gets a grad_fn whose next functions point at the inputs'.
 */
function record(out, inputs, spec, ctx) {
	const needs = !ctx.noGrad && inputs.some((t) => isT(t) && t.requires_grad);
	if (!needs) return out;
	const next = inputs.map((t) => (isT(t) && t.requires_grad ? gradFnOf(t) : null));
	out.requires_grad = true;
	out.leaf = false;
	out.grad_fn = { ...spec, inputs, next, output: out, label: ctx.label, freed: false, grad: null };
	return out;
}

/** The node backward enters for tensor `t`: its grad_fn, or its AccumulateGrad. */
export function gradFnOf(t) {
	if (t.grad_fn) return t.grad_fn;
	t.acc ??= { name: 'AccumulateGrad', label: t.name, inputs: [], next: [], output: t, saved: [], local: [],
		freed: false, grad: null, leafTensor: t };
	return t.acc;
}


/** Applies a binary operator from the expression language. */
export function binary(op, x, y, ctx, lx, ly) {
	if (op === '==') {
		const shape = outShape(x, y);
		const t = makeTensor(shape, Array.from({ length: numel(shape) }, (_, i) => (at(x, i) === at(y, i) ? 1 : 0)));
		t.dtype = 'bool';
		return t;
	}
	if (!isT(x) && !isT(y)) return { '+': x + y, '-': x - y, '*': x * y, '/': x / y, '**': x ** y }[op];
	const shape = outShape(x, y);
	const n = numel(shape);
	const f = { '+': (a, b) => a + b, '-': (a, b) => a - b, '*': (a, b) => a * b, '/': (a, b) => a / b, '**': (a, b) => a ** b }[op];
	const out = makeTensor(shape, Array.from({ length: n }, (_, i) => f(at(x, i), at(y, i))));
	const map = (g, fn) => g.map((gi, i) => gi * fn(i));
	if (op === '+' || op === '-') {
		const s = op === '+' ? 1 : -1;
		return record(out, [x, y], { name: op === '+' ? 'AddBackward0' : 'SubBackward0', saved: [{ name: 'alpha', value: 1 }],
			local: [{ wrt: lx, d: '1' }, { wrt: ly, d: String(s) }], backward: (g) => [g, g.map((v) => s * v)] }, ctx);
	}
	if (op === '*') {
		return record(out, [x, y], { name: 'MulBackward0', saved: [{ name: 'other', value: y }, { name: 'self', value: x }],
			local: [{ wrt: lx, d: ly }, { wrt: ly, d: lx }], backward: (g) => [map(g, (i) => at(y, i)), map(g, (i) => at(x, i))] }, ctx);
	}
	if (op === '/') {
		return record(out, [x, y], { name: 'DivBackward0', saved: [{ name: 'other', value: y }, { name: 'self', value: x }],
			local: [{ wrt: lx, d: `1/${paren(ly)}` }, { wrt: ly, d: `−${paren(lx)}/${paren(ly)}²` }],
			backward: (g) => [map(g, (i) => 1 / at(y, i)), map(g, (i) => -at(x, i) / at(y, i) ** 2)] }, ctx);
	}
	if (isT(y)) throw new ExprError('RuntimeError: only a number exponent is supported here', -1);
	const d = y === 2 ? `2·${paren(lx)}` : `${y}·${paren(lx)}${sup(y - 1)}`;
	return record(out, [x, y], { name: 'PowBackward0', saved: [{ name: 'exponent', value: y }, { name: 'self', value: x }],
		local: [{ wrt: lx, d }], backward: (g) => [map(g, (i) => y * at(x, i) ** (y - 1))] }, ctx);
}

const UNARY = {
	neg: ['NegBackward0', (v) => -v, () => -1, () => '−1', []],
	sin: ['SinBackward0', Math.sin, (v) => Math.cos(v), (l) => `cos(${l})`, ['self']],
	cos: ['CosBackward0', Math.cos, (v) => -Math.sin(v), (l) => `−sin(${l})`, ['self']],
	exp: ['ExpBackward0', Math.exp, (v) => Math.exp(v), (l) => `exp(${l})`, ['result']],
	log: ['LogBackward0', Math.log, (v) => 1 / v, (l) => `1/${paren(l)}`, ['self']],
	tanh: ['TanhBackward0', Math.tanh, (v) => 1 - Math.tanh(v) ** 2, (l) => `1 − tanh²(${l})`, ['result']],
	relu: ['ReluBackward0', (v) => Math.max(v, 0), (v) => (v > 0 ? 1 : 0), (l) => `[${l} > 0]`, ['result']],
};

/** Applies a one-input function: neg, sin, cos, exp, log, tanh, relu, sum, mean. */
export function unary(fn, x, ctx, lx) {
	if (!isT(x)) x = makeTensor([], [x]);
	if (fn === 'sum' || fn === 'mean') {
		const n = x.data.length;
		const s = x.data.reduce((p, v) => p + v, 0);
		const out = makeTensor([], [fn === 'sum' ? s : s / n]);
		const k = fn === 'sum' ? 1 : 1 / n;
		return record(out, [x], { name: fn === 'sum' ? 'SumBackward0' : 'MeanBackward0',
			saved: [{ name: 'self_sym_sizes', value: x.shape }], local: [{ wrt: lx, d: fn === 'sum' ? '1' : `1/${n}` }],
			backward: (g) => [x.data.map(() => g[0] * k)] }, ctx);
	}
	const spec = UNARY[fn];
	if (!spec) throw new ExprError(`AttributeError: module 'torch' has no attribute '${fn}'`, -1);
	const [name, f, df, dtext, saves] = spec;
	const out = makeTensor(x.shape, x.data.map(f));
	return record(out, [x], { name, saved: saves.map((s) => ({ name: s, value: s === 'result' ? out : x })),
		local: [{ wrt: lx, d: dtext(lx) }], backward: (g) => [g.map((gi, i) => gi * df(x.data[i]))] }, ctx);
}

export { reduceTo, numel };
