// repr.test.mjs: tensors print exactly as PyTorch 1.13 prints them
// (fixtures: tests/fixtures/repr.json from tests/conformance/gen_fixtures.py).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, describe, test } from 'node:test';

import { allRunners, fromFixture, ROOT } from './harness.mjs';

const { cases } = JSON.parse(readFileSync(`${ROOT}tests/fixtures/repr.json`, 'utf8'));
const runners = await allRunners();
after(() => runners.forEach((r) => r.dispose()));

// An expression whose result has the wanted grad_fn and the same values as x.
const SAME_VALUES = {
	MulBackward0: 'x*1', DivBackward0: 'x/1', SubBackward0: 'x-0', NegBackward0: '-(-x)',
};

// Data in the engine's terms: bools as 0/1, an empty tensor as zeros of its shape.
function steps(c) {
	let data = fromFixture(c.data);
	if (c.dtype === 'bool') data = JSON.parse(JSON.stringify(data), (k, v) => (typeof v === 'boolean' ? Number(v) : v));
	const empty = c.shape.includes(0);
	const s = [];
	if (empty) {
		s.push({ op: 'tensor', name: 'x', data: [], shape: c.shape, requires_grad: c.requires_grad });
	} else {
		s.push({ op: 'tensor', name: 'x', data, requires_grad: c.requires_grad || !!c.grad_fn });
	}
	if (c.grad_fn) s.push({ op: 'assign', name: 'y', expr: SAME_VALUES[c.grad_fn] });
	else if (c.dtype === 'bool') s.push({ op: 'assign', name: 'y', expr: 'x == 1', no_grad: true });
	s.push({ op: 'snapshot', root: c.grad_fn || c.dtype === 'bool' ? 'y' : 'x' });
	return s;
}

for (const runner of runners) {
	describe(`${runner.name} build`, () => {
		for (const c of cases) {
			test(c.id, () => {
				assert.ok(SAME_VALUES[c.grad_fn] || !c.grad_fn, `no expression for ${c.grad_fn}`);
				const res = runner.run(steps(c)).steps.at(-1);
				assert.ok(res.ok, res.error);
				assert.equal(res.state.repr, c.repr);
			});
		}
	});
}
