// Light Python syntax colouring for static code, built from text nodes and
// spans (never innerHTML).

const TOKENS = /(#.*$)|("[^"]*"|'[^']*')|\b(import|from|with|as|print|True|False|None|def|return|for|in|is|not|lambda|if|else)\b|(\b\d+(?:\.\d*)?)/gm;
const CLASS = ['py-comment', 'py-string', 'py-keyword', 'py-number'];

/**
 * Renders `code` with comments, strings, keywords and numbers coloured.
 * @param {{ code: string }} props
 */
export function Py({ code }) {
	const out = [];
	let last = 0;
	for (const m of code.matchAll(TOKENS)) {
		if (m.index > last) out.push(code.slice(last, m.index));
		const kind = m.slice(1).findIndex((g) => g !== undefined);
		out.push(<span class={CLASS[kind]}>{m[0]}</span>);
		last = m.index + m[0].length;
	}
	if (last < code.length) out.push(code.slice(last));
	return <>{out}</>;
}
