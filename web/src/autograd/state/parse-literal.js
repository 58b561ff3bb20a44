// Parses the list literal a learner types into `torch.tensor(...)`, the way
// Python and torch.tensor would: `[2., 3.]`, nested lists for 2-D, a bare
// number for 0-d. Errors name the position, like a SyntaxError would.

/** A literal that Python or torch.tensor would reject, with its offset. */
export class LiteralError extends Error {
	constructor(message, pos) {
		super(message);
		this.pos = pos;
	}
}

const NUMBER = /[+-]?(?:\d+(?:_\d+)*\.?(?:\d+(?:_\d+)*)?|\.\d+(?:_\d+)*)(?:[eE][+-]?\d+)?/y;

/**
 * @param {string} text e.g. "[2., 3.]"
 * @returns {{ data: number | any[], shape: number[], isFloat: boolean }}
 */
export function parseLiteral(text) {
	let i = 0;
	let isFloat = false;
	const skip = () => {
		while (i < text.length && /\s/.test(text[i])) i++;
	};
	const fail = (msg = 'invalid syntax') => {
		throw new LiteralError(msg, Math.min(i, text.length));
	};
	const value = () => {
		skip();
		if (text[i] === '[' || text[i] === '(') return list(text[i] === '[' ? ']' : ')');
		NUMBER.lastIndex = i;
		const m = NUMBER.exec(text);
		if (!m) fail(i >= text.length ? 'unexpected end of input' : `unexpected '${text[i]}'`);
		if (/[.eE]/.test(m[0])) isFloat = true;
		i = NUMBER.lastIndex;
		return Number(m[0].replace(/_/g, ''));
	};
	const list = (close) => {
		i++;
		const items = [];
		for (;;) {
			skip();
			if (text[i] === close) break;
			items.push(value());
			skip();
			if (text[i] === ',') i++;
			else if (text[i] !== close) fail(i >= text.length ? `'${close === ']' ? '[' : '('}' was never closed` : "expected ',' here");
		}
		i++;
		return items;
	};
	const data = value();
	skip();
	if (i < text.length) fail(`unexpected '${text[i]}'`);
	return { data, shape: shapeOf(data), isFloat };
}

/** Checks the nesting is rectangular (torch.tensor's rule) and returns the shape. */
function shapeOf(data, dim = 0) {
	if (!Array.isArray(data)) return [];
	if (data.length === 0) throw new LiteralError('empty tensors are not supported here', -1);
	const inner = shapeOf(data[0], dim + 1);
	for (const item of data) {
		const s = shapeOf(item, dim + 1);
		if (s.length !== inner.length || s.some((d, k) => d !== inner[k])) {
			const got = Array.isArray(item) ? item.length : 'a number';
			const want = Array.isArray(data[0]) ? `sequence of length ${data[0].length}` : 'a number';
			throw new LiteralError(`ValueError: expected ${want} at dim ${dim + 1} (got ${got})`, -1);
		}
	}
	if (inner.length + 1 > 4) throw new LiteralError('at most 4 dimensions are supported here', -1);
	return [data.length, ...inner];
}

/** Python's spelling of a float list, e.g. [1, 0.5] → "[1., 0.5000]"-free: "[1., 0.5]". */
export function pyLiteral(data) {
	if (Array.isArray(data)) return `[${data.map(pyLiteral).join(', ')}]`;
	return Number.isInteger(data) ? `${data}.` : String(data);
}
