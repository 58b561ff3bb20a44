// A long printout (print(model), dir(model)): the first lines, a button that
// shows the rest, and a copy button. The text is rendered as text.
import { useState } from 'preact/hooks';

/**
 * @param {{ text: string, preview: number, testid: string, label?: string }} props
 *   preview: how many lines show while collapsed
 */
export function LongOutput({ text, preview, testid, label }) {
	const [open, setOpen] = useState(false);
	const [copied, setCopied] = useState('');
	const lines = text.split('\n');
	const long = lines.length > preview + 1;
	const shown = open || !long ? text : lines.slice(0, preview).join('\n');
	const copy = async () => {
		try {
			await navigator.clipboard.writeText(text);
			setCopied('copied');
		} catch {
			setCopied('copy failed: select the text instead');
		}
	};
	return (
		<div class="cell-output long-output">
			{label && <div class="cell-output-label">{label}</div>}
			<pre data-testid={testid} data-full={open || !long ? 'true' : 'false'}>{shown}</pre>
			<div class="long-output-actions">
				{long && (
					<button type="button" class="link-button" aria-expanded={open} data-testid={`${testid}-toggle`} onClick={() => setOpen(!open)}>
						{open ? 'Show less' : `Show all ${lines.length} lines`}
					</button>
				)}
				<button type="button" class="link-button" data-testid={`${testid}-copy`} onClick={copy}>
					Copy
				</button>
				<span class="muted" role="status">{copied}</span>
			</div>
		</div>
	);
}
