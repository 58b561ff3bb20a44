// passes.mjs: where does a 2-thread ResNet-18 forward lose against one thread? Pass by pass.
// A build made with -DGB_PROFILE_PASSES=ON times every parallel pass of the engine under its
// task's name, with each thread's busy time inside it (engine/threads/gb_pool.h). Two instances
// of that build, 1 and 2 threads, run eval forwards in turn in this process (each timed forward
// after an untimed one of its own, as the bench's scaling row does), and the table gives per
// pass: its time with 1 and 2 threads, 1t÷2t, what 2 threads take beyond half of one thread's
// time, and the busy time of the two threads together over one thread's time (1.00: the work
// itself did not grow; above: the same work took longer on two cores, e.g. reading what the
// other core wrote).
//   emcmake cmake -S . -B build/wasm-prof -DGB_PROFILE_PASSES=ON -DCMAKE_BUILD_TYPE=Release
//   cmake --build build/wasm-prof --target gradbox-mt
//   node bench/passes.mjs [--dir build/wasm-prof] [--batch 1] [--runs 20] [--json]
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { loadEngine } from '../js/engine.mjs';
import { makeInput, stats } from './ort/bench-core.mjs';

const arg = (name, dflt) => {
	const i = process.argv.indexOf(`--${name}`);
	return i > 0 ? process.argv[i + 1] : dflt;
};
const dir = resolve(arg('dir', 'build/wasm-prof'));
const batch = Number(arg('batch', '1'));
const runs = Number(arg('runs', '20'));
const asJson = process.argv.includes('--json');
if (!existsSync(join(dir, 'gradbox-mt.mjs'))) {
	console.error(`no profiling build in ${dir}; make one with\n` +
		'  emcmake cmake -S . -B build/wasm-prof -DGB_PROFILE_PASSES=ON -DCMAKE_BUILD_TYPE=Release\n' +
		'  cmake --build build/wasm-prof --target gradbox-mt');
	process.exit(2);
}

// What the tasks do (their names are engine/kernels' and engine/ops' functions).
const WHAT = {
	im2col_gemm_task: 'conv: im2col fused with its GEMM (conv1, downsamples)',
	fused_task: 'conv: Winograd fused per chunk (layer1)',
	input_task: 'Winograd input transform',
	output_task: 'Winograd output transform',
	im2col_packed_task: 'im2col (stride-2 3x3 convs)',
	pack_task: 'pack B (1x1 convs, fc)',
	eval_task: 'BatchNorm, eval',
	relu_forward_range: 'ReLU',
	add_forward_range: 'residual sum',
	maxpool_fwd_task: 'max pool',
	avgpool_fwd_task: 'average pool',
};

const engines = [];
for (const threads of [1, 2]) {
	const eng = await loadEngine({ build: 'mt', threads, wasmDir: dir });
	if (!eng.M._gb_passes_json) throw new Error(`${dir} was not built with -DGB_PROFILE_PASSES=ON`);
	const model = eng.model(1000, 0);
	model.setRequiresGrad('', false);
	model.train(false);
	engines.push({ eng, model, passes: new Map(), times: [] });
}
const shape = [batch, 3, 224, 224];
const x = makeInput(batch);
const warmup = 2;
for (let r = 0; r < warmup + runs; r++) {
	for (const e of engines) {
		e.model.forward(x, shape, 1000);   // untimed: the other engine's forward has just run
		e.eng.M._gb_passes_reset();
		const t0 = performance.now();
		e.model.forward(x, shape, 1000);
		const ms = performance.now() - t0;
		if (r < warmup) continue;
		e.times.push(ms);
		for (const p of JSON.parse(e.eng.M.UTF8ToString(e.eng.M._gb_passes_json()))) {
			if (/^(module|op) /.test(p.pass)) continue;   // a module's or an op's wall time (layers.mjs, train-passes.mjs), not a pass
			const acc = e.passes.get(p.pass) ?? { calls: 0, ms: 0, busy: 0 };
			acc.calls += p.calls;
			acc.ms += p.ms;
			acc.busy += p.busy_ms.reduce((a, b) => a + b, 0);
			e.passes.set(p.pass, acc);
		}
	}
}
const median = (a) => stats(a, 3).median_ms;
const [one, two] = engines;
const names = [...new Set([...one.passes.keys(), ...two.passes.keys()])]
	.sort((a, b) => (one.passes.get(b)?.ms ?? 0) - (one.passes.get(a)?.ms ?? 0));
const rows = names.map((pass) => {
	const a = one.passes.get(pass) ?? { calls: 0, ms: 0, busy: 0 };
	const b = two.passes.get(pass) ?? { calls: 0, ms: 0, busy: 0 };
	const t1 = a.ms / runs, t2 = b.ms / runs;
	return {
		pass, what: WHAT[pass] ?? (pass.startsWith('gemm ') ? 'GEMM M x N x K, b GEMMs of that shape' : ''), calls: a.calls / runs, one_thread_ms: t1, two_threads_ms: t2,
		speedup: t2 ? t1 / t2 : null, excess_ms: t2 - t1 / 2, busy_over_one: t1 ? b.busy / runs / t1 : null,
	};
});
const sum = (k) => rows.reduce((s, r) => s + r[k], 0);
const total = {
	one_thread_ms: median(one.times), two_threads_ms: median(two.times),
	speedup: median(one.times.map((t, i) => t / two.times[i])),
	passes_one_thread_ms: sum('one_thread_ms'), passes_two_threads_ms: sum('two_threads_ms'),
};
if (asJson) {
	console.log(JSON.stringify({ batch, runs, rows, total }, null, 1));
	process.exit(0);
}
const f = (v, d = 2) => (v === null || !Number.isFinite(v) ? '-' : v.toFixed(d));
const w = Math.max(20, ...rows.map((r) => r.pass.length));
console.log(`ResNet-18 eval forward, batch ${batch}, ${runs} alternated pairs, ms per forward (mean over the runs)`);
console.log(`${'pass'.padEnd(w)} ${'calls'.padStart(5)} ${'1 thr'.padStart(7)} ${'2 thr'.padStart(7)} ${'1t÷2t'.padStart(6)}` +
	` ${'2t−1t/2'.padStart(8)} ${'busy÷1t'.padStart(8)}  what`);
for (const r of rows) {
	console.log(`${r.pass.padEnd(w)} ${f(r.calls, 0).padStart(5)} ${f(r.one_thread_ms).padStart(7)} ${f(r.two_threads_ms).padStart(7)}` +
		` ${f(r.speedup).padStart(6)} ${f(r.excess_ms).padStart(8)} ${f(r.busy_over_one).padStart(8)}  ${r.what}`);
}
console.log(`${'all passes'.padEnd(w)} ${''.padStart(5)} ${f(total.passes_one_thread_ms).padStart(7)}` +
	` ${f(total.passes_two_threads_ms).padStart(7)} ${f(total.passes_one_thread_ms / total.passes_two_threads_ms).padStart(6)}` +
	` ${f(total.passes_two_threads_ms - total.passes_one_thread_ms / 2).padStart(8)}`);
console.log(`${'forward (median)'.padEnd(w)} ${''.padStart(5)} ${f(total.one_thread_ms).padStart(7)} ${f(total.two_threads_ms).padStart(7)}` +
	` ${f(total.speedup).padStart(6)}   (1t÷2t: median of the per-pair ratios)`);
for (const e of engines) e.eng.dispose();
process.exit(0);   // the pthread workers would keep Node alive
