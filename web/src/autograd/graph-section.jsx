// "Computational Graph": the DAG autograd recorded for Q, with a details
// panel for the focused node.
import { useState } from 'preact/hooks';
import { good, stale } from './state/lesson.js';
import { ComputationGraph } from './computation-graph.jsx';
import { NodeDetails } from './node-details.jsx';

/** The recorded graph of Q after Q.backward(), and the focused node's details. */
export function GraphSection() {
	const [selected, setSelected] = useState(null);
	const g = good.value;
	if (!g) return <p class="loading">Running the engine…</p>;
	const graph = g.state.graph;
	const node = graph.nodes.find((n) => n.id === selected) ?? null;
	return (
		<div class="graph-section" data-stale={stale.value ? 'true' : 'false'}>
			{stale.value && <p class="stale-note">Showing the last graph that ran; fix the error above to update it.</p>}
			<div class={`graph-layout${stale.value ? ' is-stale' : ''}`}>
				<ComputationGraph
					graph={graph}
					rootName="Q"
					selected={selected}
					onSelect={(id) => setSelected(id === selected ? null : id)}
					title="Backward graph of Q"
					testid="graph"
				/>
				<NodeDetails node={node} />
			</div>
			<p class="graph-legend">
				<span class="swatch is-root" /> Q’s <code>grad_fn</code>
				<span class="swatch is-op" /> backward function
				<span class="swatch is-leaf" /> leaf (<code>AccumulateGrad</code>) · arrows follow <code>next_functions</code>, the
				way gradients flow. <strong>value</strong> is the node’s output; <strong>grad</strong> is the gradient that flowed
				into it during <code>Q.backward(gradient=external_grad)</code>.
			</p>
		</div>
	);
}
