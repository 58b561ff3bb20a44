// The gradient= argument as a vector–Jacobian product. J is measured, not
// assumed: one backward per element of Q with a one-hot gradient gives one
// row of ∂Q/∂a and ∂Q/∂b each.
import { good, inputs, setInput, stale, problems } from './state/lesson.js';
import { jacobianProgram } from './state/programs.js';
import { useProgram, firstError } from './state/use-program.js';
import { flat, list, num } from '../shared/format/values.js';
import { CodeField } from '../shared/code-field.jsx';
import { pythonError } from '../shared/format/python-error.js';

const MAX_ROWS = 12;

function Matrix({ rows, label, testid, highlightDiagonal }) {
	const cols = rows[0]?.length ?? 0;
	return (
		<figure class="matrix" data-testid={testid}>
			<div
				class="matrix-grid"
				role="img"
				aria-label={`${label}: ${list(rows)}`}
				style={{ gridTemplateColumns: `repeat(${cols}, auto)` }}
			>
				{rows.map((r, i) =>
					r.map((x, j) => (
						<span class={highlightDiagonal && i === j ? 'is-diag' : x === 0 ? 'is-zero' : ''}>
							{num(x)}
						</span>
					)),
				)}
			</div>
			<figcaption>{label}</figcaption>
		</figure>
	);
}

const transpose = (J) => J[0].map((_, j) => J.map((row) => row[j]));

function LeafProduct({ leaf, J, v, grad }) {
	const n = J[0].length;
	const jtv = Array.from({ length: n }, (_, j) => J.reduce((s, row, i) => s + row[j] * v[v.length === 1 ? 0 : i], 0));
	const agrees = grad && grad.length === n && jtv.every((x, j) => Math.abs(x - grad[j]) <= 1e-4 * Math.max(1, Math.abs(x)));
	const square = J.length === n;
	return (
		<div class="vjp-row">
			<Matrix rows={transpose(J)} label={`Jᵀ, J = ∂Q/∂${leaf}`} testid={`jacobian-${leaf}`} highlightDiagonal={square} />
			<span class="vjp-op">·</span>
			<Matrix rows={v.map((x) => [x])} label="v" />
			<span class="vjp-op">=</span>
			<Matrix rows={jtv.map((x) => [x])} label={`Jᵀv`} testid={`jtv-${leaf}`} />
			<span class={`vjp-agree ${agrees ? 'is-pass' : 'is-fail'}`}>
				{agrees ? '=' : '≠'} <code>{leaf}.grad</code>
			</span>
		</div>
	);
}

/** J, v and Jᵀv for a and b, live with the external gradient. */
export function VectorJacobian() {
	const g = good.value;
	const qShape = g?.forward?.shape ?? [];
	const m = qShape.reduce((p, d) => p * d, 1);
	const result = useProgram(() => (g && m <= MAX_ROWS ? jacobianProgram(g.inp, qShape) : null), [g]);
	if (!g) return null;
	const error = firstError(result);
	const states = result?.steps?.filter((s) => s.ok && s.state).map((s) => s.state) ?? [];
	const v = flat(g.inp.v);
	const leaves = ['a', 'b'].filter((k) => states[0]?.grads?.[k]);
	return (
		<div class="vjp">
			<p class="vjp-v">
				{'external_grad = v = torch.tensor('}
				<CodeField value={inputs.value.v} label="v, the external gradient" invalid={!!problems.value.v} testid="input-v-vjp" onInput={(t) => setInput('v', t)} />
				{')'}
			</p>
			{problems.value.v && (
				<pre class="is-error-line" data-testid="error-v-vjp">
					{pythonError(problems.value.v.message)}
				</pre>
			)}
			{m > MAX_ROWS && <p class="muted">Q has {m} elements; the Jacobian is shown for up to {MAX_ROWS}.</p>}
			{error && <pre class="is-error-line">{pythonError(error)}</pre>}
			<div class={stale.value ? 'is-stale' : ''}>
			{states.length === m &&
				leaves.map((leaf) => (
					<LeafProduct
						key={leaf}
						leaf={leaf}
						J={states.map((s) => flat(s.grads[leaf]))}
						v={v}
						grad={flat(g.state.grads?.[leaf] ?? [])}
					/>
				))}
			</div>
		</div>
	);
}
