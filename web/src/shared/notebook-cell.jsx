// Notebook cells: an "In [n]:" prompt, the code, and what it printed.
import { pythonError } from './format/python-error.js';

/**
 * A code cell as Jupyter shows it. `children` go after the code (outputs).
 * @param {{ n?: number | string, code: any, stale?: boolean, children?: any, id?: string }} props
 */
export function NotebookCell({ n, code, stale, children, id }) {
	return (
		<div class={`cell${stale ? ' is-stale' : ''}`} id={id}>
			<div class="cell-prompt" aria-hidden="true">
				{n === undefined ? '' : `In [${n}]:`}
			</div>
			<div class="cell-body">
				<pre class="cell-code">
					<code>{code}</code>
				</pre>
				{children}
			</div>
		</div>
	);
}

/**
 * Printed output. `lines` is text as Python printed it; `error` switches to
 * the traceback style; `stale` marks a result kept from an earlier edit.
 * @param {{ text: string, error?: boolean, stale?: boolean, testid?: string, label?: string }} props
 */
export function CellOutput({ text, error, stale, testid, label }) {
	const cls = `cell-output${error ? ' is-error' : ''}${stale ? ' is-stale' : ''}`;
	return (
		<div class={cls}>
			{label && <div class="cell-output-label">{label}</div>}
			<pre data-testid={testid} role={error ? 'alert' : undefined}>
				{text}
			</pre>
		</div>
	);
}

/**
 * An error with a caret under its position, like Python's SyntaxError.
 * @param {{ prefix?: string, source: string, message: string, type?: string, pos: number, testid?: string }} props
 */
export function CaretError({ prefix = '', source, message, type, pos, testid }) {
	const hasPos = Number.isInteger(pos) && pos >= 0;
	return (
		<div class="cell-output is-error">
			<pre data-testid={testid} role="alert">
				{hasPos && (
					<>
						{`    ${prefix}${source}\n`}
						{' '.repeat(4 + prefix.length + pos)}
						<span class="caret">^</span>
						{'\n'}
					</>
				)}
				{pythonError(message, type)}
			</pre>
		</div>
	);
}
