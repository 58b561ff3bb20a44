// Reverse-mode pass for the mock engine: topological walk from the root's
// grad_fn, gradients summed per node, AccumulateGrad adds into leaf.grad.
import { gradFnOf, makeTensor, numel, reduceTo } from './autograd.js';

export const SECOND_BACKWARD =
	'RuntimeError: Trying to backward through the graph a second time (or directly access saved tensors after they have already been freed). Saved intermediate values of the graph are freed when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the graph a second time or if you need to access saved tensors after calling backward.';

const hasSavedTensors = (node) => node.saved.some((s) => typeof s.value === 'object' && s.value !== null && !Array.isArray(s.value));

/** Nodes reachable from `root` in an order where each comes after all its consumers. */
function topoOrder(root) {
	const order = [];
	const seen = new Set();
	const visit = (n) => {
		if (!n || seen.has(n)) return;
		seen.add(n);
		n.next.forEach(visit);
		order.push(n);
	};
	visit(root);
	return order.reverse();
}

/**
 * `t.backward(gradient, retain_graph)`. Throws PyTorch's messages for the
 * usual mistakes; on success every visited node records the gradient that
 * flowed into it.
 */
export function backward(t, gradient, retainGraph) {
	if (!t.requires_grad) throw new Error('RuntimeError: element 0 of tensors does not require grad and does not have a grad_fn');
	if (gradient == null) {
		if (t.data.length !== 1) throw new Error('RuntimeError: grad can be implicitly created only for scalar outputs');
		gradient = makeTensor(t.shape, [1]);
	}
	if (gradient.data.length !== t.data.length) {
		const size = (s) => `torch.Size([${s.join(', ')}])`;
		throw new Error(`RuntimeError: Mismatch in shape: grad_output[0] has a shape of ${size(gradient.shape)} and output[0] has a shape of ${size(t.shape)}.`);
	}
	const root = gradFnOf(t);
	const order = topoOrder(root);
	if (order.some((n) => n.freed && hasSavedTensors(n))) throw new Error(SECOND_BACKWARD);
	const grads = new Map([[root, Array.from(gradient.data)]]);
	for (const node of order) {
		const g = grads.get(node);
		node.grad = g.map(Math.fround);
		node.gradShape = node.output.shape;
		if (node.leafTensor) {
			const leaf = node.leafTensor;
			const prev = leaf.grad ? leaf.grad.data : new Array(g.length).fill(0);
			leaf.grad = makeTensor(leaf.shape, g.map((v, i) => v + prev[i]));
			continue;
		}
		const gin = node.backward(g);
		node.next.forEach((n, i) => {
			if (!n) return;
			const gi = reduceTo(node.inputs[i], gin[i]);
			const acc = grads.get(n);
			grads.set(n, acc ? acc.map((v, j) => v + gi[j]) : gi);
		});
		if (!retainGraph) node.freed = true;
	}
	return numel(t.shape);
}
