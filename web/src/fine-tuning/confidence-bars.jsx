// Class probabilities as bars, most likely first; labels are the learner's text.
// Guarded by tests/e2e/studio-train.spec.mjs and studio-webcam.spec.mjs.

/** Probability bars, most likely first (at most `k`). */
export function ConfidenceBars({ top, k = 5, testid = 'predict-bars' }) {
	return (
		<ol class="bars" data-testid={testid}>
			{top.slice(0, k).map(({ index, label, p }) => (
				<li key={index} data-class={index} data-p={p}>
					<span class="bar-label">{label}</span>
					<span class="bar" style={{ '--p': p }} role="meter" aria-valuemin={0} aria-valuemax={1} aria-valuenow={p} aria-label={label} />
					<span class="bar-value">{(100 * p).toFixed(1)} %</span>
				</li>
			))}
		</ol>
	);
}
