// State JSON (docs/engine-protocol.md §2) for the mock engine's workspace.
import { tensorRepr, toList } from './format.js';
import { gradFnOf } from './autograd.js';

const plain = (v) => (typeof v === 'object' && v !== null && !Array.isArray(v) ? toList(v) : v);
const gradList = (node) => (node.grad ? toList({ shape: node.output.shape, data: node.grad }) : null);

function graphOf(t) {
	if (!t || !t.requires_grad) return { nodes: [], edges: [] };
	const root = gradFnOf(t);
	const ids = new Map([[root, 0]]);
	const queue = [root];
	const nodes = [];
	const edges = [];
	while (queue.length) {
		const n = queue.shift();
		nodes.push({ id: ids.get(n), name: n.name, label: n.label, shape: n.output.shape, value: toList(n.output),
			grad: gradList(n), freed: n.freed, saved: n.saved.map((s) => ({ name: s.name, value: plain(s.value) })),
			local: n.local.filter((_, i) => n.next[i]) });
		for (const m of n.next) {
			if (!m) continue;
			if (!ids.has(m)) { ids.set(m, ids.size); queue.push(m); }
			edges.push([ids.get(n), ids.get(m)]);
		}
	}
	return { nodes, edges };
}

/** The whole workspace as the contract's state JSON, graph rooted at `root`. */
export function workspaceState(ws, root) {
	const tensors = [...ws.tensors.entries()].map(([name, t]) => ({
		name, shape: t.shape, data: toList(t), leaf: t.leaf, requires_grad: t.requires_grad,
		grad_fn: t.grad_fn ? t.grad_fn.name : null, repr: tensorRepr(t),
		grad: t.grad ? toList(t.grad) : null, grad_repr: t.grad ? tensorRepr(t.grad) : 'None',
	}));
	const r = ws.tensors.get(root);
	const grads = {};
	for (const t of tensors) if (t.leaf && t.grad) grads[t.name] = t.grad;
	const state = { root, [root]: r ? toList(r) : null, shape: r ? r.shape : [], repr: r ? tensorRepr(r) : '',
		grads, tensors, graph: graphOf(r) };
	if (ws.gradcheck) state.gradcheck = ws.gradcheck;
	return state;
}
