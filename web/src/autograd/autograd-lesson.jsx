// Part 1, the autograd lesson: PyTorch's "A Gentle Introduction to
// torch.autograd", first part, with every cell running in the wasm engine.
import { engineError, problems, edited, resetInputs } from './state/lesson.js';
import { NotebookCell } from '../shared/notebook-cell.jsx';
import { Py } from '../shared/python-code.jsx';
import { LeafTensorsCell, ExpressionCell, BackwardCell, CheckPrintCell } from './tutorial-cells.jsx';
import { GraphSection } from './graph-section.jsx';
import { GradientChecks } from './gradient-checks.jsx';
import { VectorJacobian } from './vector-jacobian.jsx';
import { BackwardTwiceCell, ZeroGradCell, ImplicitGradientCell } from './backward-semantics.jsx';
import { FrozenLeafCell, NoGradCell } from './graph-semantics.jsx';

/** The lesson's sections, from the intro to the semantics cells. */
export function AutogradLesson() {
	const engineProblem = engineError.value ?? problems.value.engine?.message;
	return (
		<>
			{engineProblem && (
				<p class="banner is-error" role="alert">
					The engine could not run: {engineProblem}
				</p>
			)}

			<section aria-labelledby="h-diff">
				<div class="section-head">
					<h2 id="h-diff">Differentiation in Autograd</h2>
					{edited.value && (
						<button type="button" class="reset-button" data-testid="reset" onClick={resetInputs}>
							Reset to the tutorial’s values
						</button>
					)}
				</div>
				<NotebookCell n={1} code={<Py code="import torch" />} />
				<p>
					We create two tensors <code>a</code> and <code>b</code> with <code>requires_grad=True</code>. This signals to
					autograd that every operation on them should be tracked.
				</p>
				<LeafTensorsCell />
				<p>Let’s check how autograd collects gradients.</p>
				<ExpressionCell />
				<p>
					Let’s assume tensors <code>a</code> and <code>b</code> are parameters of a neural network, and <code>Q</code> is
					the error. In training we want the gradients of the error with respect to the parameters:
				</p>
				<p class="math" aria-label="dQ by da equals 9 a squared, dQ by db equals minus 2 b">
					<span class="frac"><span>∂Q</span><span>∂a</span></span> = 9a²
					<span class="math-gap" />
					<span class="frac"><span>∂Q</span><span>∂b</span></span> = −2b
				</p>
				<p>
					When we call <code>.backward()</code> on <code>Q</code>, autograd calculates these gradients and stores them in
					the respective tensors’ <code>.grad</code> attribute. We need to pass a <code>gradient</code> argument because{' '}
					<code>Q</code> is a vector; it is a tensor of the same shape as <code>Q</code>, representing the gradient of Q
					with respect to itself: <span class="frac"><span>∂Q</span><span>∂Q</span></span> = 1.
				</p>
				<BackwardCell />
				<p>Gradients are now deposited in <code>a.grad</code> and <code>b.grad</code>:</p>
				<CheckPrintCell />
			</section>

			<section aria-labelledby="h-graph">
				<h2 id="h-graph">Computational graph</h2>
				<p>
					Autograd keeps a record of data (tensors) and all executed operations in a directed acyclic graph of{' '}
					<code>Function</code> objects. Leaves are the input tensors, the root is <code>Q</code>. Backward starts at the
					root’s <code>grad_fn</code> and follows <code>next_functions</code> down to the leaves, where{' '}
					<code>AccumulateGrad</code> stores each gradient in <code>.grad</code>.
				</p>
				<GraphSection />
			</section>

			<section aria-labelledby="h-checks">
				<h2 id="h-checks">Checking the gradients</h2>
				<GradientChecks />
			</section>

			<section aria-labelledby="h-vjp">
				<h2 id="h-vjp">
					<code>gradient=</code> is a vector–Jacobian product
				</h2>
				<p>
					For a vector-valued Q, the derivative of Q with respect to a is a Jacobian matrix J with entries
					J<sub>ij</sub> = ∂Q<sub>i</sub>/∂a<sub>j</sub>. <code>torch.autograd</code> never builds J: given a vector v,
					backward computes Jᵀ·v directly, which is exactly the gradient of the scalar v·Q. Below, J is measured by
					running backward once per element of Q with a one-hot v. For an elementwise Q it is diagonal.
				</p>
				<VectorJacobian />
			</section>

			<section aria-labelledby="h-sem">
				<h2 id="h-sem">Semantics that trip people up</h2>
				<p>Each cell replays the session above (your a, b, Q and external_grad) with one change you can switch.</p>
				<div class="semantics-grid">
					<BackwardTwiceCell />
					<ZeroGradCell />
					<ImplicitGradientCell />
					<FrozenLeafCell />
					<NoGradCell />
				</div>
			</section>
		</>
	);
}
