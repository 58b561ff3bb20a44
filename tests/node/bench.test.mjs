// The benchmark's scaling rows (bench/ort/bench-core.mjs benchScaling): 1- and 2-thread
// forwards alternate (each timed one after an untimed one of its own), warm-ups are left out, and the speedup is the median of the per-pair
// ratios, shown in the table's 1t÷2t column; with the two cores timed side by side (pair()),
// the efficiency against an ideal split (ideal÷2t). A fake contestant whose forward
// busy-waits a known time per thread count stands in for the engines.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { benchScaling, formatTable, SCALING_WHAT, stats } from '../../bench/ort/bench-core.mjs';

function fakeContestant(msByThreads) {
	const calls = [];
	return {
		calls,
		engine: 'fake',
		async setup({ threads, batch }) { calls.push(['setup', threads, batch]); },
		async forward(batch, threads) {
			calls.push(['forward', threads, batch]);
			const t0 = performance.now();
			while (performance.now() - t0 < msByThreads[threads]);
		},
	};
}

test('benchScaling alternates 1 and 2 threads, each timed forward after an untimed one, and drops the warm-ups', async () => {
	const c = fakeContestant({ 1: 1, 2: 1 });
	const row = await benchScaling(c, { batch: 8, warmup: 2, runs: 3, env: 'test' });
	assert.deepEqual(c.calls[0], ['setup', 2, 8]);
	assert.deepEqual(c.calls.slice(1).map(([, t]) => t), [1, 1, 2, 2, 1, 1, 2, 2, 1, 1, 2, 2, 1, 1, 2, 2, 1, 1, 2, 2]);
	assert.ok(c.calls.slice(1).every(([what, , b]) => what === 'forward' && b === 8));
	assert.equal(row.times_ms.length, 3);
	assert.equal(row.one_thread_times_ms.length, 3);
	assert.equal(row.what, SCALING_WHAT);
	assert.equal(row.threads, 2);
	assert.equal(row.env, 'test');
});

test('benchScaling reports t(1 thread) / t(2 threads) as the speedup', async () => {
	const row = await benchScaling(fakeContestant({ 1: 12, 2: 4 }), { batch: 2, warmup: 0, runs: 5 });
	assert.ok(row.speedup > 2.4 && row.speedup < 3.3, `speedup ${row.speedup}, want ~3`);
	assert.ok(row.speedup_min <= row.speedup && row.speedup <= row.speedup_max);
	assert.ok(row.median_ms >= 4 && row.median_ms < 6, `2-thread median ${row.median_ms} ms`);
	assert.ok(row.one_thread_median_ms >= 12 && row.one_thread_median_ms < 15);
	assert.equal(row.ms_per_image, Math.round((row.median_ms / 2) * 10) / 10);
	const table = formatTable([row]);
	assert.match(table.split('\n')[0], /1t÷2t/);
	assert.ok(table.split('\n')[2].includes(String(row.speedup)), table);
});

test('benchScaling measures the two cores side by side with pair(): the ideal split and the efficiency against it', async () => {
	const c = fakeContestant({ 1: 12, 2: 8 });
	let pairs = 0;
	c.pair = async () => {   // the two cores at 10 and 15 ms per forward: together 6 ms
		c.calls.push(['pair']);
		pairs++;
		return [15, 10];
	};
	const row = await benchScaling(c, { batch: 1, warmup: 1, runs: 4 });
	assert.equal(pairs, 5);   // one per round, the warm-up's included (and then dropped)
	assert.deepEqual(c.calls.slice(1, 6).map(([what, t]) => (what === 'pair' ? 'pair' : t)), [1, 1, 2, 2, 'pair']);
	assert.equal(row.ideal_ms, 6);
	assert.equal(row.cores, 1.5);
	assert.ok(row.efficiency > 0.6 && row.efficiency <= 0.75, `efficiency ${row.efficiency}, want ~6/8`);
	assert.ok(row.efficiency_min <= row.efficiency && row.efficiency <= row.efficiency_max);
	assert.deepEqual(row.pair_times_ms, [[10, 15], [10, 15], [10, 15], [10, 15]]);
	const table = formatTable([row]).split('\n');
	assert.match(table[0], /ideal÷2t +cores/);
	assert.ok(table[2].includes(String(row.efficiency)) && table[2].includes('1.5'), table.join('\n'));
	const without = await benchScaling(fakeContestant({ 1: 1, 2: 1 }), { batch: 1, warmup: 0, runs: 2 });
	assert.equal(without.efficiency, undefined);
});

test('stats rounds to the digits asked for', () => {
	assert.deepEqual(stats([1.23456, 3.98765, 2.5]), { median_ms: 2.5, min_ms: 1.2, max_ms: 4 });
	assert.deepEqual(stats([1.23456, 3.98765], 3), { median_ms: 2.611, min_ms: 1.235, max_ms: 3.988 });
});
