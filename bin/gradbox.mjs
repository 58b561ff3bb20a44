#!/usr/bin/env node
// gradbox: the engine from the command line (the same wasm as the page).
//   gradbox grad --expr "3*a**3 - b**2" --tensor a=2,3 --tensor b=6,4 --gradient 1,1
import { parseArgs } from 'node:util';

import { loadEngine } from '../js/engine.mjs';

const USAGE = `usage: gradbox <command> [options]

commands:
  grad    evaluate an expression, run backward, print Q, the grads and the graph as JSON
          --expr "3*a**3 - b**2"   the expression (Python syntax; see README)
          --tensor a=2,3           a leaf with requires_grad=True (repeatable);
                                   a=5 is 0-d, a=[5] is 1-D, W=[[1,2],[3,4]] is 2-D
          --const c=1,2            a leaf with requires_grad=False (repeatable)
          --gradient 1,1           Q.backward(gradient=...); omit it for a scalar Q
          --retain-graph           keep the graph (for a second backward)
          --build mt|simd|scalar   which wasm build to run (default: the best available)
          --pretty                 indent the JSON

exit status: 0 on success, 1 when the engine reports an error (message on stderr),
2 for bad usage.`;

class UsageError extends Error {}

/** "2,3" → [2, 3]; "5" → 5; "[[1,2],[3,4]]" → nested lists. */
export function parseValues(text, what) {
	const t = text.trim();
	let v;
	try {
		v = t.startsWith('[') ? JSON.parse(t) : t.includes(',') ? t.split(',').map((x) => JSON.parse(x.trim())) : JSON.parse(t);
	} catch {
		throw new UsageError(`${what}: cannot read '${text}' as numbers (write 2,3 or [[1,2],[3,4]])`);
	}
	const ok = (x) => (Array.isArray(x) ? x.every(ok) : typeof x === 'number');
	if (!ok(v)) throw new UsageError(`${what}: '${text}' is not a number or a list of numbers`);
	return v;
}

function parseTensor(spec, requiresGrad) {
	const eq = spec.indexOf('=');
	if (eq <= 0) throw new UsageError(`--tensor: expected NAME=VALUES, got '${spec}'`);
	const name = spec.slice(0, eq).trim();
	return { op: 'tensor', name, data: parseValues(spec.slice(eq + 1), `--tensor ${name}`), requires_grad: requiresGrad };
}

function caret(expr, pos) {
	return pos >= 0 && pos <= expr.length ? `\n  ${expr}\n  ${' '.repeat(pos)}^` : '';
}

async function grad(args) {
	const { values: o } = parseArgs({
		args,
		options: {
			expr: { type: 'string' }, tensor: { type: 'string', multiple: true, default: [] },
			const: { type: 'string', multiple: true, default: [] }, gradient: { type: 'string' },
			'retain-graph': { type: 'boolean', default: false }, build: { type: 'string', default: 'auto' },
			pretty: { type: 'boolean', default: false },
		},
	});
	if (!o.expr) throw new UsageError('grad: --expr is required');
	const steps = [
		...o.tensor.map((s) => parseTensor(s, true)),
		...o.const.map((s) => parseTensor(s, false)),
		{ op: 'assign', name: 'Q', expr: o.expr },
		{
			op: 'backward', name: 'Q', retain_graph: o['retain-graph'],
			gradient: o.gradient === undefined ? null : parseValues(o.gradient, '--gradient'),
		},
	];
	const eng = await loadEngine({ build: o.build });
	try {
		const res = eng.run(steps).steps;
		const last = res.at(-1);
		if (!last.ok) {
			const failed = steps[res.length - 1];
			const where = failed.op === 'assign' ? caret(o.expr, last.pos) : '';
			process.stderr.write(`gradbox: ${last.error}${where}\n`);
			return 1;
		}
		const s = last.state;
		const out = { Q: s.value, shape: s.shape, grads: s.grads, graph: s.graph, build: eng.info };
		process.stdout.write(`${JSON.stringify(out, null, o.pretty ? 2 : 0)}\n`);
		return 0;
	} finally {
		eng.dispose();
	}
}

async function main(argv) {
	const [cmd, ...rest] = argv;
	if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
		process.stdout.write(`${USAGE}\n`);
		return cmd ? 0 : 2;
	}
	if (cmd === 'grad') return grad(rest);
	throw new UsageError(`unknown command '${cmd}'`);
}

try {
	process.exitCode = await main(process.argv.slice(2));
} catch (e) {
	if (e instanceof UsageError || e.code?.startsWith?.('ERR_PARSE_ARGS')) {
		process.stderr.write(`gradbox: ${e.message}\n\n${USAGE}\n`);
		process.exitCode = 2;
	} else {
		process.stderr.write(`gradbox: ${e.message}\n`);
		process.exitCode = 1;
	}
}
