// bench.mjs: runs one configuration (engine, threads, batch[, train]) in this page and leaves
// the row in window.__benchResult. `train=a|b|c` (Gradbox only) times training steps instead
// of forwards (TRAIN_CASES in bench-core.mjs), 1 warm-up and 3 timed by default;
// engine=gradbox-scaling times 2 threads against 1, alternated (benchScaling). Peak memory
// and CPU come from the driver (run.mjs), which reads the renderer process in /proc and
// exposes them as window.__gbPeakMb / window.__gbCpuMs.
import { benchOne, benchScaling, TRAIN_CASES, TRAIN_RUNS } from '../ort/bench-core.mjs';
import { CONTESTANTS } from './contestants-page.mjs';

const q = new URLSearchParams(location.search);
const num = (k) => (q.has(k) ? Number(q.get(k)) : undefined);
const engine = q.get('engine') ?? 'onnxruntime-web';
const train = q.get('train');
const out = document.getElementById('out');

try {
	if (!crossOriginIsolated) console.warn('not cross-origin isolated: threaded wasm will fall back to 1 thread');
	const make = CONTESTANTS[engine];
	if (!make) throw new Error(`unknown engine ${engine}`);
	if (train && engine !== 'gradbox') throw new Error(`${engine} has no training`);
	const c = make(train ? { train } : { proxy: q.get('proxy') === '1' });
	const d = train ? TRAIN_RUNS : {};
	const opts = { threads: num('threads') ?? 1, batch: num('batch') ?? 1, runs: num('runs') ?? d.runs, warmup: num('warmup') ?? d.warmup,
		env: 'chromium' };
	const row = engine === 'gradbox-scaling' ? await benchScaling(c, opts)
		: await benchOne(c, { ...opts, peakMb: globalThis.__gbPeakMb, cpuMs: globalThis.__gbCpuMs });
	row.cross_origin_isolated = crossOriginIsolated;
	window.__benchResult = row;
} catch (e) {
	window.__benchResult = { engine, what: TRAIN_CASES[train]?.what, threads: num('threads'), batch: num('batch'), env: 'chromium',
		error: String(e?.message ?? e) };
}
out.textContent = JSON.stringify(window.__benchResult, null, 1);
