// What one backward node keeps for later: its saved tensors, its local
// derivative, and whether backward has already freed them.
import { list } from '../shared/format/values.js';

/** A saved value is a tensor when the engine gives its shape (or a list). */
const isTensor = (s) => 'shape' in s || Array.isArray(s.value);

/** `∂(3*a**3)` → `∂(3*a**3)`, `∂((b**2))` → `∂(b**2)`, `∂(a)` → `∂a`. */
function d(text) {
	const bare = text.replace(/^\((.*)\)$/, '$1');
	return /^\w+$/.test(bare) ? `∂${bare}` : `∂(${bare})`;
}

function freedNote(node) {
	if (node.name === 'AccumulateGrad') {
		return 'AccumulateGrad saves nothing: it adds the incoming gradient into the leaf’s .grad.';
	}
	if (!node.saved?.some(isTensor)) {
		return node.saved?.length
			? 'Only numbers are saved here, so backward has no tensors to free at this node.'
			: 'This node saves nothing, so there is nothing to free.';
	}
	if (node.freed) {
		return 'Freed: backward ran through this node without retain_graph=True, so its saved tensors are gone. A second backward through it raises an error.';
	}
	return 'Still held: no backward has freed these yet (or retain_graph=True kept them).';
}

/**
 * The details of the focused graph node, or a hint when none is focused.
 * @param {{ node: object | null }} props
 */
export function NodeDetails({ node }) {
	if (!node) {
		return (
			<aside class="node-details is-empty" aria-live="polite">
				<p>
					Select a node (click it, or <kbd>Tab</kbd> to it and press <kbd>Enter</kbd>) to see what it saved for
					backward and its local derivative.
				</p>
			</aside>
		);
	}
	const isLeaf = node.name === 'AccumulateGrad';
	return (
		<aside class="node-details" aria-live="polite" data-testid="node-details">
			<h3>
				<code>{node.name}</code>
			</h3>
			<p class="node-details-label">
				{isLeaf ? 'leaf ' : 'computes '}
				<code>{node.label}</code>
				{' · '}
				<code class="nowrap">torch.Size([{node.shape?.join(', ')}])</code>
			</p>
			<dl class="node-details-values">
				<dt>value</dt>
				<dd>
					<code>{list(node.value)}</code>
				</dd>
				<dt>{isLeaf ? 'grad added' : 'grad in'}</dt>
				<dd>
					<code>{node.grad == null ? 'none yet' : list(node.grad)}</code>
				</dd>
			</dl>
			{!isLeaf && (
				<>
					<h4>Saved for backward</h4>
					{node.saved?.length ? (
						<ul class="node-details-saved" data-testid="node-saved">
							{node.saved.map((s) => (
								<li key={s.name}>
									<code>_saved_{s.name}</code> = <code>{list(s.value)}</code>
									{isTensor(s) && <span class="muted"> (tensor{node.freed ? ', freed' : ''})</span>}
								</li>
							))}
						</ul>
					) : (
						<p>nothing</p>
					)}
					<h4>Local derivative</h4>
					<ul class="node-details-local" data-testid="node-local">
						{node.local?.map((l) => (
							<li key={l.wrt}>
								<span class="frac">
									<span>{d(node.label)}</span>
									<span>{d(l.wrt)}</span>
								</span>
								{' = '}
								<code>{l.d}</code>
							</li>
						))}
					</ul>
				</>
			)}
			<p class={`node-details-freed${node.freed ? ' is-freed' : ''}`} data-testid="node-freed">
				{freedNote(node)}
			</p>
		</aside>
	);
}
