// Programs for the "semantics learners trip on" cells. Each replays the
// tutorial's session with one twist the learner can switch on and off.
import { setup } from './programs.js';

const backward = (v, retain = false) => ({ op: 'backward', name: 'Q', gradient: v, retain_graph: retain });
const snapshot = { op: 'snapshot', root: 'Q' };

/** Two backward calls; the first keeps the graph only if `retain`. */
export const twiceProgram = (inp, retain) => [...setup(inp), backward(inp.v, retain), backward(inp.v), snapshot];

/** Two backward calls with the graph retained, optionally zeroing grads between. */
export const zeroGradProgram = (inp, zero) => [
	...setup(inp),
	backward(inp.v, true),
	...(zero ? [{ op: 'zero_grad' }] : []),
	backward(inp.v),
	snapshot,
];

/** Q.backward() with or without the gradient argument. */
export const implicitProgram = (inp, withGradient) => [...setup(inp), backward(withGradient ? inp.v : null), snapshot];

/** b created with requires_grad on or off. */
export const frozenProgram = (inp, bRequiresGrad) => [...setup({ ...inp, bRequiresGrad }), snapshot, backward(inp.v)];

/** Q computed inside torch.no_grad() or not. */
export const noGradProgram = (inp, noGrad) => [...setup({ ...inp, noGrad }), snapshot];
