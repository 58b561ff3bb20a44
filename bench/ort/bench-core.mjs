// bench-core.mjs: the engine-neutral part of the ResNet-18 forward benchmark, shared by the
// Node runner (bench/ort/ort-node.mjs) and the page (bench/page/). No Node or DOM imports.
//
// A contestant is
//   { engine: 'onnxruntime-web' | 'gradbox' | ...,
//     what: 'resnet18 fwd 224 eval',                  // optional label
//     async setup({ threads, batch }),                 // load the runtime + model once
//     async forward(batch, threads) -> Float32Array,   // one eval forward of `batch` images
//     check?: async () => number,                      // optional: max|logits - PyTorch's|
//     info?: async () => object }                      // optional: fields added to the row
// Threads are fixed when a wasm runtime starts, so the runners give every (contestant,
// threads, batch) a fresh process or page; `benchOne` times one such configuration.

export const WHAT = 'resnet18 fwd 224x224 eval';

/**
 * The training benchmark's configurations (bench/train-step.mjs in Node, the page's
 * gradbox-train contestant): which modules train after fc is replaced by Linear(512, 10).
 * '' is the whole model.
 */
export const TRAIN_CASES = {
	a: { what: 'train step (a) fc', paths: ['fc'] },
	b: { what: 'train step (b) layer4 + fc', paths: ['layer4', 'fc'] },
	c: { what: 'train step (c) everything', paths: [''] },
};
/** SGD as in the tutorial; targets cycle through the 10 classes of the new head. */
export const TRAIN_SGD = { lr: 1e-2, momentum: 0.9 };
export const trainTargets = (batch) => Array.from({ length: batch }, (_, i) => i % 10);
/** Timed steps by default: a step at batch 16 takes 2-9 s. */
export const TRAIN_RUNS = { warmup: 1, runs: 3 };

/**
 * Gradbox's training setup, the same in Node and in the page worker: the fixtures' weights,
 * fc = Linear(512, 10) after manual_seed(1), only `paths` trainable, BatchNorm in train mode.
 */
export function setupTrainModel(engine, weights, paths) {
	const model = engine.model(1000, 0);
	model.load(weights);
	model.setRequiresGrad('', false);
	model.replaceFc(10, 1);
	model.setRequiresGrad('fc', false);
	for (const p of paths) model.setRequiresGrad(p, true);
	model.train(true);
	return model;
}

/** Deterministic input in [-1, 1): x_i from a 32-bit LCG, so every engine sees the same images. */
export function makeInput(batch, seed = 1) {
	const x = new Float32Array(batch * 3 * 224 * 224);
	let s = seed >>> 0;
	for (let i = 0; i < x.length; i++) {
		s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
		x[i] = s / 2 ** 31 - 1;
	}
	return x;
}

/** Median, fastest and slowest of times in ms, rounded to `digits` decimals. */
export function stats(times, digits = 1) {
	const t = [...times].sort((a, b) => a - b);
	const mid = t.length >> 1;
	const median = t.length % 2 ? t[mid] : (t[mid - 1] + t[mid]) / 2;
	return { median_ms: round(median, digits), min_ms: round(t[0], digits), max_ms: round(t[t.length - 1], digits) };
}

const round = (v, d = 1) => Math.round(v * 10 ** d) / 10 ** d;

/** Default repetitions: a batch of 8 takes ~1 s, so fewer of them. */
export const defaultRuns = (batch) => (batch >= 8 ? { warmup: 1, runs: 5 } : { warmup: 3, runs: 10 });

/**
 * Times one configuration of one contestant (setup is not timed; warmup runs are discarded).
 * `peakMb` and `cpuMs` are (possibly async) callbacks the runner supplies: peak RSS of the
 * process/renderer in MB, and its CPU time in ms (user+system, all threads); or null.
 * @returns {Promise<object>} a row {engine, what, threads, batch, median_ms, min_ms, max_ms, peak_mb, ...}
 */
export async function benchOne(c, { threads, batch, warmup, runs, peakMb = null, cpuMs = null, env = '' }) {
	const d = defaultRuns(batch);
	warmup ??= d.warmup;
	runs ??= d.runs;
	const t0 = performance.now();
	await c.setup({ threads, batch });
	const setup_ms = round(performance.now() - t0);
	const check_max_abs_err = c.check ? await c.check() : null;
	for (let i = 0; i < warmup; i++) await c.forward(batch, threads);
	const times = [];
	const cpu0 = await cpuMs?.();
	for (let i = 0; i < runs; i++) {
		const t = performance.now();
		await c.forward(batch, threads);
		times.push(performance.now() - t);
	}
	// CPU time of the whole process over wall time of the timed runs: ~threads if they all worked
	const cpu_per_wall = cpuMs ? round(((await cpuMs()) - cpu0) / times.reduce((a, b) => a + b, 0), 2) : null;
	const s = stats(times);
	return {
		engine: c.engine, what: c.what ?? WHAT, threads, batch, ...s,
		peak_mb: peakMb ? round(await peakMb()) : null,
		ms_per_image: round(s.median_ms / batch), runs, times_ms: times.map((t) => round(t)), setup_ms, check_max_abs_err, cpu_per_wall, env,
		...(c.info ? await c.info() : {}),
	};
}

/** The scaling rows' label (benchScaling). */
export const SCALING_WHAT = 'fwd 2 thr vs 1, alternated';

/**
 * Two threads against one, both in one process or page and alternated: forwards with 1
 * thread, then with 2, again and again, so that a shared machine's slow and fast minutes fall
 * on both alike (the separate 1- and 2-thread rows run minutes apart, and this VM's speed
 * moves by up to 2x between them). `c` is a contestant whose forward(batch, threads) runs
 * with that many threads (Gradbox: the simd build for 1, the mt build for 2, as the rows
 * above). Each timed forward follows an untimed one of the same thread count: the rows above
 * time forwards back to back, whose caches hold what the one before left (measured: a batch-1
 * forward with 1 thread took 46 ms back to back, 65 ms right after the other engine's).
 * Each pair gives the ratio t(1 thread) / t(2 threads); the row's speedup is the median of
 * those ratios, its times are the 2-thread forwards'.
 *
 * What the two cores can do at that moment: with `c.pair()` (two 1-thread runtimes in two
 * workers, each timing its own forward while the other runs one too: [ta, tb] ms), each
 * round also measures the two cores side by side. Work split between them with no
 * communication and no waiting would take ideal = 1 / (1/ta + 1/tb); `efficiency` is the
 * median of ideal / t(2 threads) (0.9 on two cores of equal speed is 1.8x), `cores` the
 * median of the slower core's time over the faster's. On this VM one core is at times ~1.5x
 * slower than the other for minutes (the same 1-thread forward pinned with taskset: 75 ms on
 * one CPU, 48 on the other): then no split of one forward can reach 2x, and t(1 thread)
 * depends on which core the main thread happens to run.
 * @returns {Promise<object>} a row {engine, what: SCALING_WHAT, threads: 2, batch, median_ms, ...,
 *   one_thread_median_ms, speedup, speedup_min, speedup_max[, efficiency, efficiency_min,
 *   efficiency_max, ideal_ms, cores]}
 */
export async function benchScaling(c, { batch, warmup, runs, env = '' }) {
	const d = defaultRuns(batch);
	warmup ??= d.warmup;
	runs ??= d.runs;
	await c.setup({ threads: 2, batch });
	const times = [[], []];
	const pairs = [];
	for (let i = 0; i < warmup + runs; i++) {
		for (const k of [0, 1]) {
			await c.forward(batch, k + 1);   // untimed: the caches now hold this one's data
			const t = performance.now();
			await c.forward(batch, k + 1);
			if (i >= warmup) times[k].push(performance.now() - t);
		}
		if (c.pair) {
			const [ta, tb] = await c.pair();
			if (i >= warmup) pairs.push([Math.min(ta, tb), Math.max(ta, tb)]);
		}
	}
	const r = stats(times[0].map((t, i) => t / times[1][i]), 3);   // ratios, not ms
	const s = stats(times[1]);
	const row = {
		engine: c.engine, what: SCALING_WHAT, threads: 2, batch, ...s, ms_per_image: round(s.median_ms / batch),
		one_thread_median_ms: stats(times[0]).median_ms, speedup: r.median_ms, speedup_min: r.min_ms, speedup_max: r.max_ms,
		runs, times_ms: times[1].map((t) => round(t)), one_thread_times_ms: times[0].map((t) => round(t)), env,
	};
	if (pairs.length) {
		const ideal = pairs.map(([fast, slow]) => 1 / (1 / fast + 1 / slow));
		const e = stats(ideal.map((t, i) => t / times[1][i]), 3);
		Object.assign(row, {
			efficiency: e.median_ms, efficiency_min: e.min_ms, efficiency_max: e.max_ms, ideal_ms: stats(ideal).median_ms,
			cores: stats(pairs.map(([fast, slow]) => slow / fast), 2).median_ms,
			pair_times_ms: pairs.map(([fast, slow]) => [round(fast), round(slow)]),
		});
	}
	return row;
}

/**
 * Runs every configuration in this process. Only for runtimes whose thread count can change
 * between setups; the runners use benchOne in fresh processes/pages instead.
 */
export async function bench(contestants, { threads = [1, 2], batches = [1, 8], ...opts } = {}) {
	const rows = [];
	for (const c of contestants) {
		for (const t of threads) for (const b of batches) rows.push(await benchOne(c, { threads: t, batch: b, ...opts }));
	}
	return rows;
}

/**
 * A fixed-width table of rows, sorted by env, what (forward first), batch, threads, engine.
 * "÷ ORT": a forward's median over onnxruntime-web's for the same env, threads and batch
 * (measured back to back: on a shared machine, steadier than either time alone). "÷ torch":
 * Gradbox's median of per-pair ratios against PyTorch, alternated in one run (bench/torch/).
 * "heap MB": Gradbox's wasm heap at the end (its peak: wasm memory only grows). "1t÷2t":
 * a scaling row's speedup (benchScaling).
 */
export function formatTable(rows) {
	const cols = ['env', 'engine', 'what', 'threads', 'batch', 'median_ms', 'min_ms', 'max_ms', 'ms_per_image', 'vs_ort', 'vs_torch', 'speedup', 'efficiency', 'cores', 'peak_mb', 'wasm_heap_mb', 'cpu_per_wall', 'check_max_abs_err'];
	const head = ['env', 'engine', 'what', 'thr', 'batch', 'median ms', 'min ms', 'max ms', 'ms/img', '÷ ORT', '÷ torch', '1t÷2t', 'ideal÷2t', 'cores', 'peak MB', 'heap MB', 'cpu/wall', 'max|Δ| vs torch'];
	const what = (r) => r.what ?? WHAT;
	const ort = (r) => rows.find((o) => o.engine === 'onnxruntime-web' && o.env === r.env && what(o) === what(r)
		&& o.threads === r.threads && o.batch === r.batch && o.median_ms > 0);
	rows = rows.map((r) => {
		const o = what(r) === WHAT && r.engine === 'gradbox' && r.median_ms > 0 ? ort(r) : null;
		return o ? { ...r, vs_ort: (r.median_ms / o.median_ms).toFixed(2) } : r;
	});
	const sorted = [...rows].sort((a, b) => String(a.env).localeCompare(String(b.env))
		|| (what(a) !== WHAT) - (what(b) !== WHAT) || what(a).localeCompare(what(b)) || a.batch - b.batch
		|| a.threads - b.threads || String(a.engine).localeCompare(String(b.engine)));
	const cell = (r, k) => {
		const v = k === 'what' ? what(r) : r[k];
		if (v == null) return r.error && k === 'median_ms' ? 'error*' : '-';
		return k === 'check_max_abs_err' ? v.toExponential(1) : String(v);
	};
	const body = sorted.map((r) => cols.map((k) => cell(r, k)));
	const w = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
	const line = (r) => r.map((v, i) => (i < 3 ? v.padEnd(w[i]) : v.padStart(w[i]))).join('  ');
	const errors = [...new Set(sorted.filter((r) => r.error).map((r) => `* ${r.env} ${r.engine} ${what(r)}: ${r.error}`))];
	return [line(head), w.map((n) => '-'.repeat(n)).join('  '), ...body.map(line), ...errors].join('\n');
}

/** max |a - b| over two float arrays of the same length (Infinity if lengths differ or NaN). */
export function maxAbsDiff(a, b) {
	if (a.length !== b.length) return Infinity;
	let m = 0;
	for (let i = 0; i < a.length; i++) {
		const d = Math.abs(a[i] - b[i]);
		if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
	}
	return m;
}

let ortThreads = null;
/**
 * ORT-web reads env.wasm.numThreads once, when its wasm starts: a second setup with another
 * count in the same process/page would silently keep the first. Throw instead.
 */
export function ortThreadsOnce(threads) {
	if (ortThreads != null && ortThreads !== threads) {
		throw new Error(`onnxruntime-web started with ${ortThreads} thread(s) in this process; `
			+ 'use a fresh process/page per thread count (runIsolated / runPage)');
	}
	ortThreads = threads;
}
