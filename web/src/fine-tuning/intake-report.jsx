// intake-report.jsx: what the last intake did: how many images were added, and every refused
// file by name (as text: a name with markup stays text) with its reason.
// Guarded by tests/e2e/studio-data.spec.mjs ("hostile files").

/** @param {{ report: { added: number, rejected: { name, reason }[], where: string, error?: string } | null }} props */
export function IntakeReport({ report }) {
	if (!report) return null;
	const { added, rejected, where, error } = report;
	return (
		<div class="studio-report" data-testid="intake-report" role="status">
			<p>
				{added} image{added === 1 ? '' : 's'} added to {where}
				{rejected.length ? `; ${rejected.length} file${rejected.length === 1 ? ' was' : 's were'} not added:` : '.'}
			</p>
			{error && <p class="banner is-error">{error}</p>}
			{rejected.length > 0 && (
				<ul class="studio-rejected" aria-label="Files not added">
					{rejected.slice(0, 500).map((r, i) => (
						<li key={i} data-testid="rejected">
							<span class="studio-rejected-name">{r.name}</span>: <span class="studio-rejected-reason">{r.reason}</span>
						</li>
					))}
					{rejected.length > 500 && <li>…and {rejected.length - 500} more</li>}
				</ul>
			)}
		</div>
	);
}
