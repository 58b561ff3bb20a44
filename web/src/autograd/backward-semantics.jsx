// Semantics cells about backward itself: calling it twice, zeroing grads,
// and the implicit gradient of a non-scalar output.
import { useState } from 'preact/hooks';
import { good } from './state/lesson.js';
import { twiceProgram, zeroGradProgram, implicitProgram } from './state/semantics-programs.js';
import { useProgram } from './state/use-program.js';
import { tensorIn } from '../shared/format/values.js';
import { SemanticsCell, printedBy } from './semantics-cell.jsx';
import { Py } from '../shared/python-code.jsx';

const aGrad = (state) => tensorIn(state, 'a').grad_repr;

/** Backward twice: an error unless the first call retains the graph. */
export function BackwardTwiceCell() {
	const [retain, setRetain] = useState(false);
	const g = good.value;
	const result = useProgram(() => g && twiceProgram(g.inp, retain), [g, retain]);
	const q = g?.inp.q ?? '';
	const first = retain ? 'Q.backward(gradient=external_grad, retain_graph=True)' : 'Q.backward(gradient=external_grad)';
	return (
		<SemanticsCell
			id="cell-twice"
			title="Backward twice"
			intro="Backward frees the tensors each node saved, so the same graph cannot be walked again, unless the first call asks to keep them. With the graph kept, the second call adds to .grad."
			switchLabel={<code>retain_graph=True</code>}
			checked={retain}
			onChange={setRetain}
			code={<Py code={`Q = ${q}\n${first}\nQ.backward(gradient=external_grad)\nprint(a.grad)`} />}
			output={printedBy(result, aGrad)}
		/>
	);
}

/** Gradients accumulate; a.grad.zero_() starts over. */
export function ZeroGradCell() {
	const [zero, setZero] = useState(true);
	const g = good.value;
	const result = useProgram(() => g && zeroGradProgram(g.inp, zero), [g, zero]);
	const q = g?.inp.q ?? '';
	const reset = zero ? 'a.grad.zero_()\nb.grad.zero_()' : '# a.grad.zero_()\n# b.grad.zero_()';
	return (
		<SemanticsCell
			id="cell-zero"
			title="Gradients accumulate: zero them"
			intro=".backward() adds into .grad rather than overwriting it. Training loops reset it each step (optimizer.zero_grad() does this for every parameter)."
			switchLabel={<code>a.grad.zero_()</code>}
			checked={zero}
			onChange={setZero}
			code={<Py code={`Q = ${q}\nQ.backward(gradient=external_grad, retain_graph=True)\n${reset}\nQ.backward(gradient=external_grad)\nprint(a.grad)`} />}
			output={printedBy(result, aGrad)}
		/>
	);
}

/** Q.backward() without gradient= works only when Q is a scalar. */
export function ImplicitGradientCell() {
	const [withGradient, setWithGradient] = useState(false);
	const g = good.value;
	const result = useProgram(() => g && implicitProgram(g.inp, withGradient), [g, withGradient]);
	const q = g?.inp.q ?? '';
	const call = withGradient ? 'Q.backward(gradient=external_grad)' : 'Q.backward()';
	return (
		<SemanticsCell
			id="cell-implicit"
			title="Why gradient= is needed"
			intro="For a scalar Q, backward() starts from dQ/dQ = 1. A vector Q has no single starting gradient: you must say which combination of its elements you want, which is the vector v in the vector–Jacobian product."
			switchLabel={<code>gradient=external_grad</code>}
			checked={withGradient}
			onChange={setWithGradient}
			code={<Py code={`Q = ${q}\n${call}\nprint(a.grad)`} />}
			output={printedBy(result, aGrad)}
		/>
	);
}
