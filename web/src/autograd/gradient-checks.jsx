// Two ways to trust a.grad and b.grad: the analytic formulas from the
// tutorial (for its Q), and central finite differences (for any Q).
import { good, stale } from './state/lesson.js';
import { gradcheckProgram } from './state/programs.js';
import { useProgram, firstError, lastState } from './state/use-program.js';
import { DEFAULTS } from './state/url-hash.js';
import { flat, list, num } from '../shared/format/values.js';
import { pythonError } from '../shared/format/python-error.js';

const close = (x, y) => x !== null && y !== null && Math.abs(x - y) <= 1e-4 * Math.max(1, Math.abs(y));

function Verdict({ pass, testid }) {
	return (
		<span class={`verdict ${pass ? 'is-pass' : 'is-fail'}`} data-testid={testid}>
			{pass ? 'pass' : 'fail'}
		</span>
	);
}

function AnalyticRows({ g }) {
	const v = flat(g.inp.v);
	const at = (arr, i) => arr[arr.length === 1 ? 0 : i];
	const rows = [
		{ leaf: 'a', formula: '9a²', f: (x) => 9 * x * x, values: flat(g.inp.a) },
		{ leaf: 'b', formula: '−2b', f: (x) => -2 * x, values: flat(g.inp.b) },
	].map((r) => {
		const expected = r.values.map((x, i) => r.f(x) * at(v, i));
		const got = flat(g.state.grads?.[r.leaf] ?? []);
		return { ...r, expected, got, pass: got.length === expected.length && expected.every((e, i) => close(got[i], e)) };
	});
	return rows.map((r) => (
		<tr key={r.leaf}>
			<th scope="row">
				<code>{r.leaf}.grad</code>
			</th>
			<td>
				{r.formula} · v = <code>{list(r.expected.map((x) => Math.fround(x)))}</code>
			</td>
			<td>
				<code>{list(r.got)}</code>
			</td>
			<td>
				<Verdict pass={r.pass} testid={`analytic-${r.leaf}`} />
			</td>
		</tr>
	));
}

/** The analytic and finite-difference checks of the gradients. */
export function GradientChecks() {
	const g = good.value;
	const result = useProgram(() => g && gradcheckProgram(g.inp), [g]);
	if (!g) return null;
	const isDefault = g.inp.q.replace(/\s+/g, '') === DEFAULTS.q.replace(/\s+/g, '');
	const fd = lastState(result)?.gradcheck;
	const fdError = firstError(result);
	return (
		<div class={`checks${stale.value ? ' is-stale' : ''}`}>
			<h3>Analytic check</h3>
			{isDefault ? (
				<table class="check-table">
					<thead>
						<tr>
							<th scope="col">gradient</th>
							<th scope="col">by hand</th>
							<th scope="col">autograd</th>
							<th scope="col">
								<span class="visually-hidden">result</span>
							</th>
						</tr>
					</thead>
					<tbody>
						<AnalyticRows g={g} />
					</tbody>
				</table>
			) : (
				<p class="muted" data-testid="analytic-na">
					The formulas ∂Q/∂a = 9a² and ∂Q/∂b = −2b hold for the tutorial’s Q = 3a³ − b². For your expression, trust the
					finite-difference check below.
				</p>
			)}
			<h3>Finite-difference check</h3>
			<p class="muted">
				Nudge every element of every leaf by ±ε and compare (L(x+ε) − L(x−ε)) / 2ε with autograd’s gradient, where L =
				sum(v · Q).
			</p>
			{fdError && <pre class="is-error-line">{pythonError(fdError)}</pre>}
			{fd && (
				<p class="fd-result" data-testid="gradcheck">
					max |Δ| = <code data-testid="gradcheck-diff">{num(fd.max_abs_diff)}</code>
					{fd.eps ? ` with ε = ${num(fd.eps)}` : ''} (tolerance {num(fd.tolerance)}){' '}
					<Verdict pass={fd.pass} testid="gradcheck-verdict" />
				</p>
			)}
		</div>
	);
}
