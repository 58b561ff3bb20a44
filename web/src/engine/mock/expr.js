// A small Python-expression parser for the mock engine: numbers, names,
// `name.grad`, + - * / ** ==, unary minus, parentheses, torch.f(x) / f(x) and
// x.sum() / x.mean(). Errors carry the byte offset like gb_last_error_pos().

/** A parse error with its position in the source. */
export class ExprError extends Error {
	constructor(message, pos) {
		super(message);
		this.pos = pos;
	}
}

const TOKEN = /\s*(?:(\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)|([A-Za-z_]\w*)|(\*\*|==|[-+*/().,]))/y;

function tokenize(src) {
	const out = [];
	let i = 0;
	while (i < src.length) {
		if (/^\s*$/.test(src.slice(i))) break;
		TOKEN.lastIndex = i;
		const m = TOKEN.exec(src);
		if (!m) {
			const pos = i + (src.slice(i).length - src.slice(i).trimStart().length);
			throw new ExprError('SyntaxError: invalid syntax', pos);
		}
		const text = m[1] ?? m[2] ?? m[3];
		const start = m.index + m[0].length - text.length;
		out.push({ kind: m[1] ? 'num' : m[2] ? 'id' : 'op', text, start, end: start + text.length });
		i = TOKEN.lastIndex;
	}
	out.push({ kind: 'eof', text: '', start: src.length, end: src.length });
	return out;
}

/**
 * Parses `src` into an AST whose nodes carry `start`/`end` offsets.
 * @param {string} src
 */
export function parseExpr(src) {
	const toks = tokenize(src);
	let k = 0;
	const peek = () => toks[k];
	const next = () => toks[k++];
	const is = (text) => peek().kind === 'op' && peek().text === text;
	const expect = (text) => {
		if (!is(text)) throw new ExprError('SyntaxError: invalid syntax', peek().start);
		return next();
	};
	const span = (a, b, node) => ({ ...node, start: a.start, end: b.end });

	const args = () => {
		const list = [];
		expect('(');
		while (!is(')')) {
			list.push(cmp());
			if (!is(')')) expect(',');
		}
		return { list, close: next() };
	};
	const primary = () => {
		const t = peek();
		if (t.kind === 'num') return next(), span(t, t, { kind: 'num', value: Number(t.text) });
		if (is('(')) {
			next();
			const inner = cmp();
			const close = expect(')');
			return { ...inner, start: t.start, end: close.end, paren: true };
		}
		if (t.kind === 'id') {
			next();
			if (t.text === 'torch' && is('.')) {
				next();
				const fn = next();
				if (fn.kind !== 'id') throw new ExprError('SyntaxError: invalid syntax', fn.start);
				const { list, close } = args();
				return span(t, close, { kind: 'call', fn: fn.text, args: list, fnPos: fn.start });
			}
			if (is('(')) {
				const { list, close } = args();
				return span(t, close, { kind: 'call', fn: t.text, args: list, fnPos: t.start });
			}
			return span(t, t, { kind: 'name', name: t.text });
		}
		throw new ExprError('SyntaxError: invalid syntax', t.start);
	};
	const postfix = () => {
		let node = primary();
		while (is('.')) {
			next();
			const attr = next();
			if (attr.kind !== 'id') throw new ExprError('SyntaxError: invalid syntax', attr.start);
			if (is('(')) {
				const { list, close } = args();
				node = { kind: 'call', fn: attr.text, args: [node, ...list], fnPos: attr.start, start: node.start, end: close.end };
			} else {
				node = { kind: 'attr', attr: attr.text, obj: node, attrPos: attr.start, start: node.start, end: attr.end };
			}
		}
		return node;
	};
	const power = () => {
		const base = postfix();
		if (!is('**')) return base;
		next();
		const exp = unary();
		return { kind: 'bin', op: '**', lhs: base, rhs: exp, start: base.start, end: exp.end };
	};
	const unary = () => {
		if (is('-') || is('+')) {
			const t = next();
			const x = unary();
			return t.text === '-' ? { kind: 'neg', x, start: t.start, end: x.end } : x;
		}
		return power();
	};
	const chain = (sub, ops) => () => {
		let lhs = sub();
		while (ops.some(is)) {
			const op = next().text;
			const rhs = sub();
			lhs = { kind: 'bin', op, lhs, rhs, start: lhs.start, end: rhs.end };
		}
		return lhs;
	};
	const mul = chain(unary, ['*', '/']);
	const add = chain(mul, ['+', '-']);
	const cmp = chain(add, ['==']);

	if (peek().kind === 'eof') throw new ExprError('SyntaxError: invalid syntax', 0);
	const tree = cmp();
	if (peek().kind !== 'eof') throw new ExprError('SyntaxError: invalid syntax', peek().start);
	return tree;
}
