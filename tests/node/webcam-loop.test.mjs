// The webcam predictor's rules (web/src/fine-tuning/webcam-loop.js): one frame at a time, frames
// dropped while busy, the fps meter, and a message for each camera failure.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FpsMeter, OneAtATime, ViewGate, cameraProblem } from '../../web/src/fine-tuning/webcam-loop.js';

test('fps over the last second', () => {
	const m = new FpsMeter(1000);
	assert.equal(m.fps(0), 0);
	for (let t = 0; t <= 1000; t += 50) m.tick(t);   // 21 ticks, 20 intervals of 50 ms
	assert.equal(m.fps(1000), 20);
	assert.equal(m.fps(3000), 0);                      // all of them have left the window
});

test('a frame offered while one is in the worker is dropped, not queued', async () => {
	const finished = [];
	let release;
	const gate = new Promise((r) => { release = r; });
	const closed = [];
	const loop = new OneAtATime(async (f) => { await gate; finished.push(f); }, (f) => closed.push(f));
	assert.equal(loop.offer(1), true);
	assert.equal(loop.offer(2), false);
	assert.equal(loop.offer(3), false);
	assert.deepEqual(closed, [2, 3]);
	release();
	await new Promise((r) => setTimeout(r, 0));
	assert.deepEqual(finished, [1]);
	assert.equal(loop.offer(4), true);
	await new Promise((r) => setTimeout(r, 0));
	assert.deepEqual(finished, [1, 4]);
	assert.equal(loop.done, 2);
	assert.equal(loop.dropped, 2);
});

test('a failing frame frees the loop', async () => {
	const loop = new OneAtATime(async () => { throw new Error('boom'); });
	loop.offer(1);
	await new Promise((r) => setTimeout(r, 0));
	assert.equal(loop.busy, false);
});

test('each camera failure has its own sentence', () => {
	assert.match(cameraProblem({ name: 'NotAllowedError' }), /permission was denied/);
	assert.match(cameraProblem({ name: 'NotFoundError' }), /No camera was found/);
	assert.match(cameraProblem({ name: 'NotReadableError' }), /in use/);
	assert.match(cameraProblem({ name: 'NoMediaDevices' }), /no camera/);
	assert.match(cameraProblem(new Error('odd')), /could not start: odd/);
});

test('onIdle runs when the worker is free again, so the newest frame goes at once', async () => {
	const idle = [];
	const loop = new OneAtATime(async () => {}, () => {}, () => idle.push(loop.busy));
	loop.offer(1);
	assert.deepEqual(idle, []);
	await new Promise((r) => setTimeout(r, 0));
	assert.deepEqual(idle, [false]);   // called after busy is cleared: an offer from it is taken
});

test('the gate opens only when every condition holds, and says so once', () => {
	let opened = 0;
	const gate = new ViewGate(() => { opened += 1; });
	assert.equal(gate.open, true);
	gate.set('on-screen', false);
	gate.set('tab-visible', false);
	assert.equal(gate.open, false);
	gate.set('on-screen', true);
	assert.equal(gate.open, false);      // the tab is still hidden
	assert.equal(opened, 0);
	gate.set('tab-visible', true);
	assert.equal(gate.open, true);
	assert.equal(opened, 1);
	gate.set('tab-visible', true);       // already open: no second call
	assert.equal(opened, 1);
});
