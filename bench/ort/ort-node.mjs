// ort-node.mjs: ResNet-18 forward (224x224, eval) in Node, batch 1 and 8, 1 and 2 threads,
// for ONNX Runtime Web's wasm backend and Gradbox. Each configuration runs in a fresh Node
// process, so thread counts can differ and the process's peak RSS is that configuration's
// (peak_mb = process.resourceUsage().maxRSS, Node's ~45 MB baseline included). With Gradbox
// and both 1 and 2 threads, one more process per batch times Gradbox's 2 threads against 1
// alternated (bench-core.mjs's benchScaling: the scaling rows, what 'fwd 2 thr vs 1, alternated').
//
//   /usr/bin/python3 bench/ort/export_onnx.py build/bench     (done automatically if missing)
//   node bench/ort/ort-node.mjs [--engines onnxruntime-web,gradbox] [--threads 1,2] [--batches 1,8]
//                               [--runs N] [--warmup N] [--json] [--out rows.json]
//
// Programmatic: `runIsolated(['onnxruntime-web', 'gradbox'], opts)` -> rows, using the
// registry in contestants-node.mjs; `bench(contestants)` in bench-core.mjs runs contestant
// objects in this process instead.
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { benchOne, benchScaling, formatTable } from './bench-core.mjs';
import { BENCH_DIR, CONTESTANTS, ROOT } from './contestants-node.mjs';
import { runChildMode } from '../node-child.mjs';

const SELF = fileURLToPath(import.meta.url);

function arg(name, def) {
	const i = process.argv.indexOf(`--${name}`);
	return i > 0 ? process.argv[i + 1] : def;
}
const list = (s) => s.split(',').map((v) => v.trim()).filter(Boolean);

/** Exports the ONNX model with the real PyTorch if it is not there yet (messages on stderr). */
export function ensureOnnx(dir = BENCH_DIR) {
	if (existsSync(join(dir, 'resnet18.onnx'))) return;
	const r = spawnSync(process.env.GB_TORCH_PYTHON ?? '/usr/bin/python3', [join(ROOT, 'bench/ort/export_onnx.py'), dir],
		{ stdio: ['ignore', 2, 2], timeout: 600_000 });   // its messages on stderr: stdout may be JSON
	if (r.status !== 0) throw new Error('bench/ort/export_onnx.py failed');
}

export function runChild(engine, threads, batch, { runs, warmup, timeoutMs = 600_000 }) {
	return runChildMode(SELF, [engine, threads, batch], { runs, warmup, timeoutMs },
		(error) => ({ engine, threads, batch, env: 'node', error }));
}

/**
 * One fresh process per (engine, threads, batch); returns the rows. The engines of one
 * (threads, batch) run one after the other, so that a shared machine's slow and fast
 * minutes fall on both sides of each comparison alike.
 */
export async function runIsolated(engines, { threads = [1, 2], batches = [1, 8], runs, warmup, log = () => {} } = {}) {
	ensureOnnx();
	for (const e of engines) {
		if (!CONTESTANTS[e]) throw new Error(`unknown engine ${e}; known: ${Object.keys(CONTESTANTS).join(', ')}`);
	}
	const rows = [];
	for (const t of threads) {
		for (const b of batches) {
			for (const e of engines) {
				const row = await runChild(e, t, b, { runs, warmup });
				log(row);
				rows.push(row);
			}
		}
	}
	if (engines.includes('gradbox') && threads.includes(1) && threads.includes(2)) {
		for (const b of batches) {   // 2 threads against 1, alternated in one process
			const row = await runChild('gradbox-scaling', 2, b, { runs, warmup });
			log(row);
			rows.push(row);
		}
	}
	return rows;
}

async function child() {
	const i = process.argv.indexOf('--child');
	const [engine, threads, batch] = [process.argv[i + 1], Number(process.argv[i + 2]), Number(process.argv[i + 3])];
	const runs = arg('runs') && Number(arg('runs'));
	const warmup = arg('warmup') && Number(arg('warmup'));
	const load_before = loadavg()[0];
	let row;
	try {
		const opts = { threads, batch, runs: runs || undefined, warmup: warmup ?? undefined, env: 'node' };
		row = engine === 'gradbox-scaling'
			? await benchScaling(CONTESTANTS[engine](), opts)
			: await benchOne(CONTESTANTS[engine](), {
				...opts,
				peakMb: () => process.resourceUsage().maxRSS / 1024,
				cpuMs: () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; },
			});
		row.load1 = [Math.round(load_before * 10) / 10, Math.round(loadavg()[0] * 10) / 10];
	} catch (e) {
		row = { engine, threads, batch, env: 'node', error: String(e?.message ?? e) };
	}
	process.stdout.write(`${JSON.stringify(row)}\n`);
	process.exit(0);   // runtimes' worker threads would otherwise keep the process alive
}

async function main() {
	const json = process.argv.includes('--json');
	const rows = await runIsolated(list(arg('engines', 'onnxruntime-web')), {
		threads: list(arg('threads', '1,2')).map(Number),
		batches: list(arg('batches', '1,8')).map(Number),
		runs: arg('runs') && Number(arg('runs')),
		warmup: arg('warmup') && Number(arg('warmup')),
		log: json ? () => {} : (r) => console.error(`  ${r.engine} threads=${r.threads} batch=${r.batch}: ${r.error ?? `${r.median_ms} ms`}`),
	});
	if (arg('out')) writeFileSync(arg('out'), `${JSON.stringify(rows, null, 1)}\n`);
	console.log(json ? JSON.stringify(rows, null, 1) : formatTable(rows));
}

if (process.argv[1] === SELF) {
	if (process.argv.includes('--child')) await child();
	else await main();
}
