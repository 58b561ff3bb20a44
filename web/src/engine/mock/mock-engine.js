// A JavaScript stand-in for the wasm engine, implementing `run(steps)` per
// docs/engine-protocol.md. Used only with `?mock=1` while developing the page.
import { parseExpr, ExprError } from './expr.js';
import { binary, unary, makeTensor } from './autograd.js';
import { backward } from './backward.js';
import { workspaceState } from './mock-state.js';

const flatten = (data) => (Array.isArray(data) ? data.flatMap(flatten) : [data]);
const shapeOf = (data) => (Array.isArray(data) ? [data.length, ...shapeOf(data[0])] : []);

function evaluate(ws, src, noGrad) {
	const ast = parseExpr(src);
	const ev = (n) => {
		const ctx = { noGrad, label: src.slice(n.start, n.end).trim() };
		const label = (c) => src.slice(c.start, c.end).trim();
		switch (n.kind) {
			case 'num': return n.value;
			case 'name': {
				const t = ws.tensors.get(n.name);
				if (!t) throw new ExprError(`NameError: name '${n.name}' is not defined`, n.start);
				return t;
			}
			case 'attr': {
				if (n.attr !== 'grad') throw new ExprError(`AttributeError: 'Tensor' object has no attribute '${n.attr}'`, n.attrPos);
				const t = ev(n.obj);
				if (!t.grad) throw new ExprError(`TypeError: ${label(n)} is None`, n.start);
				return t.grad;
			}
			case 'neg': return unary('neg', ev(n.x), ctx, label(n.x));
			case 'bin': return binary(n.op, ev(n.lhs), ev(n.rhs), ctx, label(n.lhs), label(n.rhs));
			case 'call': {
				if (n.args.length !== 1) throw new ExprError(`TypeError: ${n.fn}() takes 1 argument`, n.fnPos);
				return unary(n.fn, ev(n.args[0]), ctx, label(n.args[0]));
			}
		}
	};
	const out = ev(ast);
	return typeof out === 'number' ? makeTensor([], [out]) : out;
}

function gradcheck(ws, name, gradient) {
	const src = ws.exprs.get(name);
	const leaves = [...ws.tensors.values()].filter((t) => t.leaf && t.requires_grad);
	const loss = () => {
		const q = evaluate(ws, src, true);
		return q.data.reduce((s, v, i) => s + v * (gradient ? gradient[i] : 1), 0);
	};
	const saved = leaves.map((t) => t.grad);
	leaves.forEach((t) => (t.grad = null));
	backward(evaluate(ws, src, false), gradient ? makeTensor([gradient.length], gradient) : null, false);
	let maxDiff = 0;
	const eps = 1e-3;
	for (const t of leaves) {
		for (let i = 0; i < t.data.length; i++) {
			const x = t.data[i];
			t.data[i] = x + eps; const up = loss();
			t.data[i] = x - eps; const down = loss();
			t.data[i] = x;
			maxDiff = Math.max(maxDiff, Math.abs((up - down) / (2 * eps) - t.grad.data[i]));
		}
	}
	leaves.forEach((t, i) => (t.grad = saved[i]));
	return { max_abs_diff: maxDiff, tolerance: 1e-2, pass: maxDiff <= 1e-2 };
}

function step(ws, s) {
	switch (s.op) {
		case 'tensor': {
			const t = makeTensor(shapeOf(s.data), flatten(s.data), { name: s.name, requires_grad: !!s.requires_grad });
			ws.tensors.set(s.name, t);
			return null;
		}
		case 'assign': {
			const t = evaluate(ws, s.expr, !!s.no_grad);
			t.name = s.name;
			ws.tensors.set(s.name, t);
			ws.exprs.set(s.name, s.expr);
			return null;
		}
		case 'backward': {
			const t = ws.tensors.get(s.name);
			const g = s.gradient == null ? null : makeTensor(shapeOf(s.gradient), flatten(s.gradient));
			backward(t, g, !!s.retain_graph);
			ws.root = s.name;
			return workspaceState(ws, s.name);
		}
		case 'zero_grad':
			for (const t of ws.tensors.values()) if (t.grad) t.grad = makeTensor(t.shape, t.grad.data.map(() => 0));
			return null;
		case 'gradcheck':
			ws.gradcheck = gradcheck(ws, s.name, s.gradient == null ? null : flatten(s.gradient));
			return workspaceState(ws, s.name);
		case 'snapshot':
			return workspaceState(ws, s.root);
		default:
			throw new Error(`unknown step ${s.op}`);
	}
}

/** Same surface as js/engine.mjs's loadEngine() result. */
export function loadMockEngine() {
	return {
		info: { build: 'mock', simd: false, threads: 1, version: 'mock' },
		run(steps) {
			const ws = { tensors: new Map(), exprs: new Map(), gradcheck: null };
			const out = [];
			for (const s of steps) {
				try {
					const state = step(ws, s);
					out.push(state ? { ok: true, state } : { ok: true });
				} catch (err) {
					out.push({ ok: false, error: err.message, pos: err.pos ?? -1 });
					break;
				}
			}
			return { steps: out };
		},
		dispose() {},
	};
}
