// engine.test.mjs: the JS wrapper itself: build choice, threads, bad input.
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { test } from 'node:test';

import { detectBuild, flatten, loadEngine } from '../../js/engine.mjs';

test('Node has SIMD and SharedArrayBuffer: the threaded build is chosen', () => {
	assert.equal(detectBuild(), 'mt');
});

test('a forced build is honoured only where it can run', () => {
	const page = { threads: false, simd: true };          // a page that is not cross-origin isolated
	assert.equal(detectBuild(null, page), 'simd');
	assert.equal(detectBuild('mt', page), 'simd');         // would throw "SharedArrayBuffer is not defined"
	assert.equal(detectBuild('scalar', page), 'scalar');
	assert.equal(detectBuild('bogus', page), 'simd');
	assert.equal(detectBuild(null, { threads: true, simd: false }), 'scalar');   // threads need SIMD here
	assert.equal(detectBuild('simd', { simd: false }), 'scalar');
	assert.equal(detectBuild(null, { threads: true, simd: true }), 'mt');
});

test('the mt build runs one engine thread per core (at most 8); the others one', async () => {
	const mt = await loadEngine({ build: 'mt' });
	assert.equal(mt.info.threads, Math.min(8, availableParallelism()));
	assert.equal(mt.info.simd, true);
	mt.dispose();
	const two = await loadEngine({ build: 'mt', threads: 1 });
	assert.equal(two.info.threads, 1);
	two.dispose();
	const scalar = await loadEngine({ build: 'scalar' });
	assert.deepEqual([scalar.info.threads, scalar.info.simd], [1, false]);
	scalar.dispose();
});

test('nested lists flatten to values and a shape; ragged lists are refused', () => {
	assert.deepEqual(flatten([[1, 2], [3, 4]]), { values: [1, 2, 3, 4], shape: [2, 2] });
	assert.deepEqual(flatten(5), { values: [5], shape: [] });
	assert.throws(() => flatten([[1, 2], [3]]), /rectangular/);
	assert.throws(() => flatten('x'), /number/);
});

test('bad steps fail with a message, stop the program, and leave the engine usable', async () => {
	const eng = await loadEngine({ build: 'simd' });
	let res = eng.run([
		{ op: 'tensor', name: 'a', data: [1, 2], requires_grad: true },
		{ op: 'tensor', name: 'b', data: [[1, 2], [3]] },
		{ op: 'assign', name: 'Q', expr: 'a' },
	]).steps;
	assert.equal(res.length, 2);
	assert.match(res[1].error, /rectangular/);
	res = eng.run([{ op: 'tensor', name: 'a', data: [1, 2, 3, 4, 5] }, { op: 'frobnicate' }]).steps;
	assert.match(res[1].error, /unknown step/);
	res = eng.run([{ op: 'tensor', name: 'a', data: [[[[[1]]]]] }]).steps;
	assert.match(res[0].error, /at most 4 dimensions/);
	res = eng.run([{ op: 'tensor', name: '1a', data: 1 }]).steps;
	assert.match(res[0].error, /not a valid variable name/);
	// A big tensor makes the heap grow; the views must follow.
	const big = Array.from({ length: 1 << 20 }, (_, i) => i % 7);
	res = eng.run([{ op: 'tensor', name: 'x', data: big, requires_grad: true },
		{ op: 'assign', name: 'Q', expr: 'x.sum()' }, { op: 'backward', name: 'Q' }]).steps;
	assert.ok(res.at(-1).ok, res.at(-1).error);
	assert.equal(res.at(-1).state.value, big.reduce((s, v) => s + v, 0));
	eng.dispose();
});
