// Semantics cells about what enters the graph: a leaf that does not require
// grad, and computations under torch.no_grad().
import { useState } from 'preact/hooks';
import { good, inputs } from './state/lesson.js';
import { frozenProgram, noGradProgram } from './state/semantics-programs.js';
import { useProgram } from './state/use-program.js';
import { tensorIn } from '../shared/format/values.js';
import { SemanticsCell, printedBy } from './semantics-cell.jsx';
import { ComputationGraph } from './computation-graph.jsx';
import { Py } from '../shared/python-code.jsx';

const tf = (on) => (on ? 'True' : 'False');

/** b with requires_grad=False: it drops out of the graph and gets no .grad. */
export function FrozenLeafCell() {
	const [bGrad, setBGrad] = useState(false);
	const g = good.value;
	const result = useProgram(() => g && frozenProgram(g.inp, bGrad), [g, bGrad]);
	const q = g?.inp.q ?? '';
	const states = result?.steps?.filter((s) => s.ok && s.state).map((s) => s.state) ?? [];
	const graph = states[states.length - 1]?.graph;
	const print = (state) => `${tensorIn(state, 'a').grad_repr} ${tensorIn(state, 'b').grad_repr}`;
	return (
		<SemanticsCell
			id="cell-frozen"
			title="Leaving a tensor out of the graph"
			intro="Autograd only tracks tensors with requires_grad=True. An operation's output needs a gradient if any input does, so b**2 no longer appears, and b.grad stays None. Freezing a network's parameters works exactly this way."
			switchLabel={<code>b: requires_grad=True</code>}
			checked={bGrad}
			onChange={setBGrad}
			code={<Py code={`b = torch.tensor(${inputs.value.b}, requires_grad=${tf(bGrad)})\nQ = ${q}\nQ.backward(gradient=external_grad)\nprint(a.grad, b.grad)`} />}
			output={printedBy(result, print)}
		>
			{graph && (
				<div class="mini-graph">
					<p class="muted" data-testid="cell-frozen-count">
						The graph has {graph.nodes.length} nodes.
					</p>
					<ComputationGraph graph={graph} rootName="Q" title="Backward graph with b frozen" testid="graph-frozen" />
				</div>
			)}
		</SemanticsCell>
	);
}

/** Under torch.no_grad(), Q is computed but not recorded. */
export function NoGradCell() {
	const [noGrad, setNoGrad] = useState(true);
	const g = good.value;
	const result = useProgram(() => g && noGradProgram(g.inp, noGrad), [g, noGrad]);
	const q = g?.inp.q ?? '';
	const code = noGrad ? `with torch.no_grad():\n    Q = ${q}\nprint(Q)\nprint(Q.requires_grad)` : `Q = ${q}\nprint(Q)\nprint(Q.requires_grad)`;
	const print = (state) => {
		const Q = tensorIn(state, 'Q');
		return `${Q.repr}\n${tf(Q.requires_grad)}`;
	};
	return (
		<SemanticsCell
			id="cell-nograd"
			title="Inference without a graph"
			intro="Inside torch.no_grad() nothing is recorded: Q has the same values but no grad_fn, and uses no memory for saved tensors. Use it for evaluation and for updating weights by hand."
			switchLabel={<code>with torch.no_grad():</code>}
			checked={noGrad}
			onChange={setNoGrad}
			code={<Py code={code} />}
			output={printedBy(result, print)}
		/>
	);
}
