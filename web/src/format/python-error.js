// The engine's messages are PyTorch's text without the exception class;
// Python would print the class first ("RuntimeError: ..."). This adds it.

const KINDS = [
	[/^invalid syntax|^unexpected|never closed|^unmatched|^expected ','/, 'SyntaxError'],
	[/^name '.*' is not defined/, 'NameError'],
	[/has no attribute/, 'AttributeError'],
	[/^unsupported operand|argument|takes \d+/, 'TypeError'],
];

/**
 * `message` as the last line of a Python traceback.
 * @param {string} message
 */
export function pythonError(message) {
	if (/^[A-Z]\w*(Error|Exception|Warning): /.test(message)) return message;
	const kind = KINDS.find(([re]) => re.test(message))?.[1] ?? 'RuntimeError';
	return `${kind}: ${message}`;
}
