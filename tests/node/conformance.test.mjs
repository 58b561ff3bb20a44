// conformance.test.mjs: every build of the engine against real PyTorch.
// Fixtures: tests/fixtures/autograd.json, made by tests/conformance/gen_fixtures.py
// with torch 1.13. Values within 1e-5 relative; names, graphs, printouts and
// error texts exactly.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';

import { allRunners, assertClose, ROOT } from './harness.mjs';

const fixtures = JSON.parse(readFileSync(`${ROOT}tests/fixtures/autograd.json`, 'utf8'));
const runners = await allRunners();
after(() => runners.forEach((r) => r.dispose()));

const tensorSteps = (c) => c.tensors.map((t) => ({ op: 'tensor', ...t }));

function program(c, { retain = false, backwards = 1 } = {}) {
	const steps = [...tensorSteps(c), { op: 'assign', name: 'Q', expr: c.expr, no_grad: false }];
	for (let i = 0; i < backwards; i++) steps.push({ op: 'backward', name: 'Q', gradient: c.gradient, retain_graph: retain });
	return steps;
}

function checkGraph(graph, expected, id) {
	assert.deepEqual(graph.nodes.map((n) => n.name), expected.nodes.map((n) => n.name), `${id}: node names`);
	for (const [i, n] of expected.nodes.entries()) {
		if (n.label !== undefined) assert.equal(graph.nodes[i].label, n.label, `${id}: label of node ${i}`);
	}
	assert.deepEqual(graph.edges, expected.edges, `${id}: edges`);
}

for (const runner of runners) {
	describe(`${runner.name} build`, () => {
		for (const c of fixtures.cases) {
			test(c.id, () => {
				if (c.error !== undefined) {
					const calls = c.backward_calls ?? (c.error_at === 'backward' ? 1 : 0);
					const steps = c.error_at === 'eval'
						? [...tensorSteps(c), { op: 'assign', name: 'Q', expr: c.expr }]
						: program(c, { backwards: calls });
					const res = runner.run(steps).steps;
					const last = res.at(-1);
					assert.equal(res.length, steps.length, `${c.id}: should fail at the last step`);
					assert.equal(last.ok, false, `${c.id}: expected an error`);
					assert.equal(last.error, c.error);
					assert.equal(last.type, c.error_type, `${c.id}: exception class`);
					return;
				}
				const res = runner.run(program(c)).steps;
				const last = res.at(-1);
				assert.ok(last.ok, `${c.id}: ${last.error}`);
				const s = last.state;
				assert.deepEqual(s.shape, c.shape, `${c.id}: shape`);
				assertClose(s.value, c.Q, `${c.id}: Q`);
				assert.equal(s.repr, c.repr, `${c.id}: repr(Q)`);
				for (const [name, g] of Object.entries(c.grads)) {
					assertClose(s.grads[name] ?? null, g, `${c.id}: ${name}.grad`);
					const t = s.tensors.find((x) => x.name === name);
					assert.equal(t.grad_repr, c.grad_reprs[name], `${c.id}: repr(${name}.grad)`);
				}
				checkGraph(s.graph, c.graph, c.id);

				// A second backward without retain_graph errors iff a node saved tensors.
				const twice = runner.run(program(c, { backwards: 2 })).steps.at(-1);
				assert.equal(!twice.ok, c.second_backward_error, `${c.id}: second backward ${twice.error ?? 'succeeded'}`);
				// With retain_graph the gradients accumulate.
				const retained = runner.run(program(c, { backwards: 2, retain: true })).steps.at(-1);
				assert.ok(retained.ok, retained.error);
				for (const [name, g] of Object.entries(c.retain_grads)) {
					assertClose(retained.state.grads[name] ?? null, g, `${c.id}: ${name}.grad after two backwards`);
				}
			});
		}

		for (const sc of fixtures.scenarios) {
			test(`scenario ${sc.id}`, () => {
				const res = runner.run(sc.steps).steps;
				const exp = sc.expect;
				if (exp.error) {
					assert.equal(res.length, exp.error.step + 1, `${sc.id}: fails at step ${exp.error.step}`);
					assert.equal(res.at(-1).ok, false);
					assert.equal(res.at(-1).error, exp.error.error);
					assert.equal(res.at(-1).type, exp.error.error_type);
					return;
				}
				const last = res.at(-1);
				assert.ok(last.ok, last.error);
				for (const [name, t] of Object.entries(exp.tensors)) {
					const got = last.state.tensors.find((x) => x.name === name);
					assert.ok(got, `${sc.id}: tensor ${name}`);
					assert.equal(got.repr, t.repr, `${sc.id}: repr(${name})`);
					assert.equal(got.grad_repr, t.grad_repr, `${sc.id}: repr(${name}.grad)`);
					assert.equal(got.grad_fn, t.grad_fn, `${sc.id}: ${name}.grad_fn`);
					assert.equal(got.requires_grad, t.requires_grad, `${sc.id}: ${name}.requires_grad`);
				}
				if (exp.graph) checkGraph(last.state.graph, exp.graph, sc.id);
				if (exp.prints) {
					const t = (n) => last.state.tensors.find((x) => x.name === n);
					const prints = `${t('check_a').repr} ${t('a').grad_repr}\n${t('check_b').repr} ${t('b').grad_repr}\n`;
					assert.equal(prints, exp.prints);
				}
			});
		}
	});
}
