// report.mjs: the bench's rows as the two summary tables that judge them against issue 18's
// targets (speed: Gradbox ÷ PyTorch; memory: the wasm heap's peak per training case; the
// scaling rows' share of the ideal 2-thread split), as text for `gradbox bench` and as
// Markdown for bench/RESULTS.md (bench/results.mjs). No I/O here.
import { SCALING_WHAT, TRAIN_CASES, WHAT } from './ort/bench-core.mjs';

/** Issue 18's targets on this 2-core machine: ratios measured in one run. */
export const TARGETS = {
	[WHAT]: { vs_torch: 0.8 },                                  // forward, 1 and 2 threads
	[TRAIN_CASES.a.what]: { vs_torch: 0.7, wasm_heap_mb: 180 },
	[TRAIN_CASES.b.what]: { wasm_heap_mb: 300 },
	[TRAIN_CASES.c.what]: { vs_torch: 1.0, wasm_heap_mb: 450 },
	[SCALING_WHAT]: { efficiency: 0.9 },                        // ≥ 0.9 of 1/(1/ta + 1/tb)
};

const verdict = (v, limit, atLeast = false) => (v == null || limit == null ? '' : (atLeast ? v >= limit : v <= limit) ? 'yes' : 'no');
const find = (rows, engine, r) => rows.find((o) => o.engine === engine && o.what === r.what && o.threads === r.threads
	&& o.batch === r.batch && o.env === r.env && o.median_ms > 0);

/** One line per Gradbox forward / training row: Gradbox, PyTorch and ORT ms, the ratio, the targets. */
export function speedLines(rows) {
	const order = (r) => (r.what === WHAT ? 0 : 1);
	return rows.filter((r) => r.engine === 'gradbox' && r.what !== SCALING_WHAT && r.median_ms > 0 && r.paired_with !== undefined)
		.sort((a, b) => order(a) - order(b) || a.what.localeCompare(b.what) || a.batch - b.batch || a.threads - b.threads)
		.map((r) => {
			const t = TARGETS[r.what] ?? {};
			const torch = find(rows, 'pytorch', r);
			const ort = find(rows, 'onnxruntime-web', r);
			return {
				what: r.what === WHAT ? 'forward, eval' : r.what, threads: r.threads, batch: r.batch,
				gradbox: r.median_ms, pytorch: torch?.median_ms ?? null, ort: ort?.median_ms ?? null,
				vs_torch: r.vs_torch ?? null, range: r.vs_torch == null ? '' : `${r.vs_torch_min}-${r.vs_torch_max}`,
				target: t.vs_torch ?? null, met: verdict(r.vs_torch, t.vs_torch),
				heap: r.what === WHAT ? null : r.wasm_heap_mb ?? null, heap_target: t.wasm_heap_mb ?? null,
				heap_met: r.what === WHAT ? '' : verdict(r.wasm_heap_mb, t.wasm_heap_mb),
			};
		});
}

/** One line per scaling row: 1t÷2t, ideal÷2t against the target, the cores' speed ratio. */
export function scalingLines(rows) {
	return rows.filter((r) => r.what === SCALING_WHAT && r.median_ms > 0).sort((a, b) => a.batch - b.batch).map((r) => ({
		batch: r.batch, one: r.one_thread_median_ms, two: r.median_ms, ideal: r.ideal_ms ?? null, speedup: r.speedup,
		efficiency: r.efficiency ?? null, target: TARGETS[SCALING_WHAT].efficiency,
		met: verdict(r.efficiency, TARGETS[SCALING_WHAT].efficiency, true), cores: r.cores ?? null,
	}));
}

const SPEED_HEAD = ['what', 'threads', 'batch', 'Gradbox ms', 'PyTorch ms', 'ORT Web ms', 'Gradbox ÷ PyTorch', 'pairs', 'target', 'met',
	'wasm heap MB', 'target', 'met'];
const speedCells = (l) => [l.what, l.threads, l.batch, l.gradbox, l.pytorch, l.ort, l.vs_torch, l.range,
	l.target == null ? '' : `≤ ${l.target}`, l.met, l.heap, l.heap_target == null ? '' : `≤ ${l.heap_target}`, l.heap_met];
const SCALING_HEAD = ['scaling, batch', '1 thread ms', '2 threads ms', 'ideal ms', '1t÷2t', 'ideal÷2t', 'target', 'met', 'cores'];
const scalingCells = (l) => [l.batch, l.one, l.two, l.ideal, l.speedup, l.efficiency, `≥ ${l.target}`, l.met, l.cores];
const show = (v) => (v == null ? '-' : String(v));

function textTable(head, body) {
	const cells = body.map((r) => r.map(show));
	const w = head.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i].length)));
	const line = (r) => r.map((v, i) => (i === 0 ? v.padEnd(w[i]) : v.padStart(w[i]))).join('  ');
	return [line(head), w.map((n) => '-'.repeat(n)).join('  '), ...cells.map(line)].join('\n');
}

/** A Markdown table; the first `left` columns are text (left-aligned), the others numbers. */
export function mdTable(head, body, left = 1) {
	const row = (r) => `| ${r.map((v) => show(v).replaceAll('|', '\\|')).join(' | ')} |`;
	return [row(head), row(head.map((_, i) => (i < left ? '---' : '---:'))), ...body.map(row)].join('\n');
}

/** The two summary tables, as text (fmt 'text') or Markdown (fmt 'md'). */
export function formatTargets(rows, fmt = 'text') {
	const table = fmt === 'md' ? mdTable : textTable;
	const speed = speedLines(rows);
	const scaling = scalingLines(rows);
	const out = [];
	if (speed.length) out.push(table(SPEED_HEAD, speed.map(speedCells)));
	if (scaling.length) out.push(table(SCALING_HEAD, scaling.map(scalingCells)));
	const skipped = rows.filter((r) => r.engine === 'pytorch' && r.error).map((r) => r.error);
	if (skipped.length) out.push(`PyTorch ${[...new Set(skipped)].join('; ')}`);
	return out.join('\n\n');
}
