// bench.mjs: runs one configuration (engine, threads, batch) in this page and leaves the row
// in window.__benchResult. Peak memory and CPU come from the driver (run.mjs), which reads the
// renderer process in /proc and exposes them as window.__gbPeakMb / window.__gbCpuMs.
import { benchOne } from '../ort/bench-core.mjs';
import { CONTESTANTS } from './contestants-page.mjs';

const q = new URLSearchParams(location.search);
const num = (k) => (q.has(k) ? Number(q.get(k)) : undefined);
const engine = q.get('engine') ?? 'onnxruntime-web';
const out = document.getElementById('out');

try {
	if (!crossOriginIsolated) console.warn('not cross-origin isolated: threaded wasm will fall back to 1 thread');
	const make = CONTESTANTS[engine];
	if (!make) throw new Error(`unknown engine ${engine}`);
	const row = await benchOne(make({ proxy: q.get('proxy') === '1' }), {
		threads: num('threads') ?? 1, batch: num('batch') ?? 1, runs: num('runs'), warmup: num('warmup'),
		env: 'chromium', peakMb: globalThis.__gbPeakMb, cpuMs: globalThis.__gbCpuMs,
	});
	row.cross_origin_isolated = crossOriginIsolated;
	window.__benchResult = row;
} catch (e) {
	window.__benchResult = { engine, threads: num('threads'), batch: num('batch'), env: 'chromium', error: String(e?.message ?? e) };
}
out.textContent = JSON.stringify(window.__benchResult, null, 1);
