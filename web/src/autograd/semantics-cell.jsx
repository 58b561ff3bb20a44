// The frame shared by the semantics cells: a question, a switch that edits
// the code, the code, and what the engine printed (or raised).
import { NotebookCell, CellOutput } from '../shared/notebook-cell.jsx';
import { CodeSwitch } from '../shared/code-field.jsx';
import { stale } from './state/lesson.js';
import { pythonError } from '../shared/format/python-error.js';

/**
 * @param {{ id: string, title: string, intro: any, switchLabel: any, checked: boolean,
 *           onChange: (on: boolean) => void, code: any, output: null | { text: string, error?: boolean },
 *           children?: any }} props
 */
export function SemanticsCell({ id, title, intro, switchLabel, checked, onChange, code, output, children }) {
	return (
		<article class="semantics-cell" id={id} data-testid={id}>
			<h3>{title}</h3>
			<p>{intro}</p>
			<CodeSwitch checked={checked} onChange={onChange} testid={`${id}-switch`}>
				{switchLabel}
			</CodeSwitch>
			<NotebookCell code={code}>
				{output && <CellOutput text={output.text} error={output.error} stale={stale.value} testid={`${id}-out`} />}
				{children}
			</NotebookCell>
		</article>
	);
}

/**
 * What a run printed: the first error (as Python shows it), or `print(f(state))`.
 * @param {object | null} result a run result
 * @param {(state: object) => string} print
 */
export function printedBy(result, print) {
	if (!result) return null;
	if (result.error) return { text: pythonError(result.error), error: true };
	const failed = result.steps.find((s) => !s.ok);
	if (failed) return { text: pythonError(failed.error, failed.type), error: true };
	const states = result.steps.filter((s) => s.state);
	return { text: print(states[states.length - 1].state) };
}
