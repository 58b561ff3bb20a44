// cli.test.mjs: `gradbox grad` as a user runs it (npx gradbox ...).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';

import { ROOT } from './harness.mjs';

function gradbox(...args) {
	const r = spawnSync(process.execPath, [`${ROOT}bin/gradbox.mjs`, ...args], { encoding: 'utf8', timeout: 60_000 });
	return { code: r.status, out: r.stdout, err: r.stderr };
}

test('the tutorial: Q, grads and the 6-node graph', () => {
	for (const build of ['mt', 'simd', 'scalar']) {
		const r = gradbox('grad', '--expr', '3*a**3 - b**2', '--tensor', 'a=2,3', '--tensor', 'b=6,4', '--gradient', '1,1', '--build', build);
		assert.equal(r.code, 0, r.err);
		const j = JSON.parse(r.out);
		assert.deepEqual(j.Q, [-12, 65]);
		assert.deepEqual(j.shape, [2]);
		assert.deepEqual(j.grads, { a: [36, 81], b: [-12, -8] });
		assert.deepEqual(j.graph.nodes.map((n) => n.name),
			['SubBackward0', 'MulBackward0', 'PowBackward0', 'PowBackward0', 'AccumulateGrad', 'AccumulateGrad']);
		assert.deepEqual(j.graph.nodes.slice(4).map((n) => n.label), ['b', 'a']);
		assert.deepEqual(j.graph.edges, [[0, 1], [0, 2], [1, 3], [2, 4], [3, 5]]);
		assert.equal(j.build.build, build);
	}
});

test('2-D tensors, constants, and a scalar Q without --gradient', () => {
	const r = gradbox('grad', '--expr', '(W@x).relu().sum()', '--tensor', 'W=[[1,2],[3,-4]]', '--const', 'x=1,1');
	assert.equal(r.code, 0, r.err);
	const j = JSON.parse(r.out);
	assert.equal(j.Q, 3);           // relu([3, -1]) summed
	assert.deepEqual(j.shape, []);
	assert.deepEqual(j.grads, { W: [[1, 1], [0, 0]] });
});

test('a bad expression exits non-zero with the engine message and a caret', () => {
	const r = gradbox('grad', '--expr', '3*a**3 - b**', '--tensor', 'a=2,3', '--tensor', 'b=6,4', '--gradient', '1,1');
	assert.equal(r.code, 1);
	assert.equal(r.out, '');
	assert.match(r.err, /invalid syntax/);
	assert.match(r.err, /\n {2}3\*a\*\*3 - b\*\*\n {14}\^/);
});

test('semantic errors carry PyTorch\'s text', () => {
	let r = gradbox('grad', '--expr', 'a * 2', '--tensor', 'a=1,2');
	assert.equal(r.code, 1);
	assert.match(r.err, /grad can be implicitly created only for scalar outputs/);
	r = gradbox('grad', '--expr', 'a + c', '--tensor', 'a=1,2', '--const', 'c=1,2,3', '--gradient', '1,1');
	assert.equal(r.code, 1);
	assert.match(r.err, /The size of tensor a \(2\) must match the size of tensor b \(3\) at non-singleton dimension 0/);
});

test('bad usage exits 2 with the usage text', () => {
	const r = gradbox('grad', '--tensor', 'a=2,3');
	assert.equal(r.code, 2);
	assert.match(r.err, /--expr is required/);
	assert.equal(gradbox('grad', '--expr', 'a', '--tensor', 'a=x,y').code, 2);
	assert.equal(gradbox('frobnicate').code, 2);
});

test('negative numbers are option values, as in argparse: --gradient -1,1 is --gradient=-1,1', () => {
	const spaced = gradbox('grad', '--expr', '3*a**3 - b**2', '--tensor', 'a=2,3', '--tensor', 'b=6,4', '--gradient', '-1,1');
	assert.equal(spaced.code, 0, spaced.err);
	assert.deepEqual(JSON.parse(spaced.out).grads, { a: [-36, 81], b: [12, -8] });
	const joined = gradbox('grad', '--expr', '3*a**3 - b**2', '--tensor', 'a=2,3', '--tensor', 'b=6,4', '--gradient=-1,1');
	assert.equal(joined.out, spaced.out);
	const r = gradbox('grad', '--expr', 'a*c', '--tensor', 'a=-2', '--const', 'c', '-0.5');
	assert.equal(r.code, 2, 'a value that is not NAME=VALUES is still refused');
	const scalar = gradbox('grad', '--expr', '(a*b).sum()', '--tensor', 'a=-2,1', '--tensor', 'b=[-0.5,-1]');
	assert.equal(scalar.code, 0, scalar.err);
	assert.deepEqual(JSON.parse(scalar.out).grads, { a: [-0.5, -1], b: [-2, 1] });
	const unknown = gradbox('grad', '--expr', 'a', '--tensor', 'a=1', '-1');
	assert.equal(unknown.code, 2, 'a negative number where no option takes a value is an unknown option');
});

test('gradbox bench --help says the bench needs the repository, and runs nothing', () => {
	const r = gradbox('bench', '--help');
	assert.equal(r.code, 0, r.err);
	assert.match(r.out, /needs a clone of the repository/);
	assert.match(r.out, /--json +print the rows as a JSON array \(only JSON on stdout\)/);
	assert.equal(r.err, '');
});
