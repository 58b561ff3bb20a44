// The steps programs (docs/engine-protocol.md §3) the lesson runs. Each is a
// small Python session replayed from scratch in a fresh workspace.

/**
 * `a = torch.tensor(...)`, `b = ...`, `Q = <expr>`.
 * @param {{ a: any, b: any, q: string, bRequiresGrad?: boolean, noGrad?: boolean }} inp
 */
export function setup(inp) {
	return [
		{ op: 'tensor', name: 'a', data: inp.a, requires_grad: true },
		{ op: 'tensor', name: 'b', data: inp.b, requires_grad: inp.bRequiresGrad ?? true },
		{ op: 'assign', name: 'Q', expr: inp.q, no_grad: !!inp.noGrad },
	];
}

/** Index of the `Q = ...` step in every program below. */
export const ASSIGN_STEP = 2;

/** In [5]–[6]: Q, then Q.backward(gradient=external_grad). */
export function mainProgram(inp) {
	return [...setup(inp), { op: 'snapshot', root: 'Q' }, { op: 'backward', name: 'Q', gradient: inp.v, retain_graph: false }];
}

/** In [10]: `<name> = <expr>` (e.g. check_a = 9*a**2 == a.grad) under no_grad, after the backward. */
export function checkProgram(inp, name, expr) {
	return [...mainProgram(inp), { op: 'assign', name, expr, no_grad: true }, { op: 'snapshot', root: name }];
}

/** Central differences of sum(v * Q) against backward's gradients. */
export function gradcheckProgram(inp) {
	return [...setup(inp), { op: 'gradcheck', name: 'Q', gradient: inp.v }];
}

/** A one-hot array shaped like `shape` with a 1 at flat index `k`. */
export function oneHot(shape, k) {
	let flat = 0;
	const build = (dim) => {
		if (dim === shape.length) return flat++ === k ? 1 : 0;
		return Array.from({ length: shape[dim] }, () => build(dim + 1));
	};
	return build(0);
}

/**
 * Rows of the Jacobian dQ/da, dQ/db: one backward per element of Q with a
 * one-hot gradient, retaining the graph and zeroing grads in between.
 */
export function jacobianProgram(inp, qShape) {
	const n = qShape.reduce((p, d) => p * d, 1);
	const steps = setup(inp);
	for (let k = 0; k < n; k++) {
		const gradient = qShape.length ? oneHot(qShape, k) : null;
		steps.push({ op: 'backward', name: 'Q', gradient, retain_graph: true }, { op: 'zero_grad' });
	}
	return steps;
}
