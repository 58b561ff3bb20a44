// In [10]: print(9*a**2 == a.grad, a.grad) and print(-2*b == b.grad, b.grad).
// Each check runs the tutorial's session, then `check_a = 9*a**2 == a.grad`
// under no_grad, and prints the two reprs the way print() joins them.
import { good, stale } from './state/lesson.js';
import { checkProgram } from './state/programs.js';
import { useProgram, lastState } from './state/use-program.js';
import { tensorIn } from '../shared/format/values.js';
import { NotebookCell } from '../shared/notebook-cell.jsx';
import { Py } from '../shared/python-code.jsx';
import { pythonError } from '../shared/format/python-error.js';

const CHECKS = [
	{ leaf: 'a', name: 'check_a', expr: '9*a**2 == a.grad' },
	{ leaf: 'b', name: 'check_b', expr: '-2*b == b.grad' },
];

function printed(result, { leaf, name }, main) {
	// NOTE: with no gradient, x.grad is None and Python's `tensor == None` is
	// plain False; the expression language has no None, so print it here.
	if (main && tensorIn(main, leaf)?.grad == null) return { text: 'False None' };
	if (!result) return { text: '' };
	if (result.error) return { text: pythonError(result.error), error: true };
	const failed = result.steps.find((s) => !s.ok);
	if (failed) return { text: pythonError(failed.error, failed.type), error: true };
	const state = lastState(result);
	return { text: `${tensorIn(state, name).repr} ${tensorIn(state, leaf).grad_repr}` };
}

/** In [10]: the two printed checks, as the tutorial prints them. */
export function CheckPrintCell() {
	const g = good.value;
	const ra = useProgram(() => g && checkProgram(g.inp, CHECKS[0].name, CHECKS[0].expr), [g]);
	const rb = useProgram(() => g && checkProgram(g.inp, CHECKS[1].name, CHECKS[1].expr), [g]);
	const lines = [printed(ra, CHECKS[0], g?.state), printed(rb, CHECKS[1], g?.state)];
	const code = <Py code={`# printing gradients\nprint(${CHECKS[0].expr}, a.grad)\nprint(${CHECKS[1].expr}, b.grad)`} />;
	return (
		<NotebookCell n={10} code={code}>
			{(ra || rb) && (
				<div class={`cell-output${stale.value ? ' is-stale' : ''}`}>
					{lines.map((l, i) => (
						<pre data-testid={`print-${CHECKS[i].leaf}`} class={l.error ? 'is-error-line' : ''}>
							{l.text}
						</pre>
					))}
				</div>
			)}
		</NotebookCell>
	);
}
