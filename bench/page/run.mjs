// run.mjs: the ResNet-18 benchmark in headless Chromium: the forward pass (Gradbox and ONNX
// Runtime Web), then Gradbox's training step at batch 16 with (a) fc, (b) layer4 + fc, (c)
// everything trainable (as bench/train-step.mjs in Node; ORT-web has no training). Serves the
// repository's bench/, ORT-web's dist/, build/bench/ (the ONNX model), build/resnet-fixtures/,
// js/ and web/public/wasm/ with COOP/COEP on a free port, and opens one fresh page per
// configuration, so each has its own wasm runtime and renderer process. peak_mb is that
// renderer's peak RSS (VmHWM in /proc, wasm memory and the pthread workers included);
// cpu_per_wall its CPU time over the timed runs' wall time. With gradbox and threads 1 and 2,
// a page per batch also times Gradbox's 2 threads against 1 alternated (the scaling rows,
// benchScaling in bench/ort/bench-core.mjs).
//
//   node bench/page/run.mjs [--engines onnxruntime-web,gradbox] [--threads 1,2] [--batches 1,8]
//                           [--train a,b,c | --no-train] [--train-batch 16]
//                           [--runs N] [--warmup N] [--proxy] [--with-node] [--json] [--out rows.json]
//   --train      the training cases to time (when gradbox is among the engines); each step at
//                batch 16 takes 2-9 s, so 1 warm-up and 3 timed steps unless --runs/--warmup say
//   --with-node  also runs bench/ort/ort-node.mjs's configurations and bench/train-step.mjs's
//                (whose peak_mb is the wasm heap's size): one combined table
//   --proxy      ORT runs in its own worker (ort.env.wasm.proxy) instead of the page's main thread
import { execFileSync } from 'node:child_process';
import { createReadStream, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { loadavg } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

import { formatTable, TRAIN_CASES } from '../ort/bench-core.mjs';
import { ensureOnnx, runIsolated } from '../ort/ort-node.mjs';
import { ensureFixtures } from '../../tests/resnet/fixtures.mjs';
import { runNodeChild } from '../node-child.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SERVED = ['/bench/', '/node_modules/onnxruntime-web/dist/', '/build/bench/', '/build/resnet-fixtures/', '/js/', '/web/public/wasm/'];
const MIME = { '.html': 'text/html', '.mjs': 'text/javascript', '.js': 'text/javascript', '.wasm': 'application/wasm',
	'.json': 'application/json', '.map': 'application/json' };
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
	'--disable-background-networking', '--disable-component-update', '--disable-sync'];

function arg(name, def) {
	const i = process.argv.indexOf(`--${name}`);
	return i > 0 ? process.argv[i + 1] : def;
}
const list = (s) => s.split(',').map((v) => v.trim()).filter(Boolean);

/** A static server for SERVED, cross-origin isolated; resolves to {server, base}. */
export function serve() {
	const server = createServer((req, res) => {
		const path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname));
		const file = join(ROOT, path);
		let ok = SERVED.some((p) => path.startsWith(p)) && file.startsWith(ROOT);
		try { ok &&= statSync(file).isFile(); } catch { ok = false; }
		const headers = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp',
			'Cross-Origin-Resource-Policy': 'same-origin', 'Cache-Control': 'no-store' };
		if (!ok) { res.writeHead(404, headers); res.end('not found'); return; }
		res.writeHead(200, { ...headers, 'Content-Type': MIME[extname(file)] ?? 'application/octet-stream' });
		createReadStream(file).pipe(res);
	});
	return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, base: `http://127.0.0.1:${server.address().port}` })));
}

// ---- the renderer process of a page, found in /proc (Linux) --------------------------------
function rendererPids() {
	const rows = execFileSync('ps', ['-eo', 'pid=,ppid=,args='], { encoding: 'utf8' }).trim().split('\n')
		.map((l) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(l)).filter(Boolean).map(([, pid, ppid, args]) => ({ pid: +pid, ppid: +ppid, args }));
	const mine = new Set([process.pid]);
	for (let grew = true; grew;) {   // our descendants: chromium, its zygotes, renderers, ...
		grew = false;
		for (const r of rows) if (mine.has(r.ppid) && !mine.has(r.pid)) { mine.add(r.pid); grew = true; }
	}
	return rows.filter((r) => mine.has(r.pid) && r.args.includes('--type=renderer')).map((r) => r.pid);
}
const statusKb = (pid, key) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
const cpuMsOf = (pid) => {
	const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
	return (Number(f[11]) + Number(f[12])) * 10;    // utime + stime, in 100 Hz ticks
};

/** One configuration in a fresh context/page (train: a TRAIN_CASES key or null); returns the row. */
async function runOne(browser, base, { engine, threads, batch, train = null, runs, warmup, proxy }) {
	const before = new Set(rendererPids());
	const ctx = await browser.newContext();
	const page = await ctx.newPage();
	let pid = null;
	const renderer = () => {
		if (pid) return pid;
		const fresh = rendererPids().filter((p) => !before.has(p));
		// the page's renderer is the biggest new one (about:blank's may linger briefly)
		pid = fresh.sort((a, b) => statusKb(b, 'VmRSS') - statusKb(a, 'VmRSS'))[0] ?? null;
		return pid;
	};
	await page.exposeFunction('__gbPeakMb', () => { const p = renderer(); return p ? statusKb(p, 'VmHWM') / 1024 : null; });
	await page.exposeFunction('__gbCpuMs', () => { const p = renderer(); return p ? cpuMsOf(p) : 0; });
	const logs = [];
	page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') logs.push(m.text()); });
	page.on('pageerror', (e) => logs.push(String(e)));
	const q = new URLSearchParams({ engine, threads, batch, ...(train ? { train } : {}), ...(runs ? { runs } : {}),
		...(warmup != null ? { warmup } : {}), ...(proxy ? { proxy: 1 } : {}) });
	let row;
	const load0 = loadavg()[0];
	try {
		await page.goto(`${base}/bench/page/index.html?${q}`);
		// a training step at 1 thread with everything trainable takes ~10 s on a busy machine
		await page.waitForFunction(() => window.__benchResult, null, { timeout: train ? 1_800_000 : 600_000, polling: 500 });
		row = await page.evaluate(() => window.__benchResult);
	} catch (e) {
		row = { engine, what: TRAIN_CASES[train]?.what, threads, batch, env: 'chromium', error: String(e?.message ?? e).split('\n')[0] };
	}
	row.load1 = [load0, loadavg()[0]].map((v) => Math.round(v * 10) / 10);
	if (logs.length) row.console = logs.slice(0, 5);
	await ctx.close();
	return row;
}

/**
 * Every (threads, batch, engine) forward in Chromium, then, if gradbox is among the engines,
 * every (train case, threads) training step at batch trainBatch; returns rows.
 */
export async function runPage(engines, { threads = [1, 2], batches = [1, 8], train = Object.keys(TRAIN_CASES), trainBatch = 16,
	runs, warmup, proxy = false, log = () => {} } = {}) {
	ensureOnnx();
	ensureFixtures();   // Gradbox's weights: the fixtures' resnet18.pth (same network as the .onnx)
	const { server, base } = await serve();
	const browser = await chromium.launch({ executablePath: process.env.GB_CHROMIUM ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
	const rows = [];
	try {
		for (const t of threads) {   // the engines of one (threads, batch) back to back (bench/ort/ort-node.mjs)
			for (const b of batches) {
				for (const engine of engines) {
					const row = await runOne(browser, base, { engine, threads: t, batch: b, runs, warmup, proxy });
					log(row);
					rows.push(row);
				}
			}
		}
		if (engines.includes('gradbox') && threads.includes(1) && threads.includes(2)) {
			for (const b of batches) {   // 2 threads against 1, alternated in one page
				const row = await runOne(browser, base, { engine: 'gradbox-scaling', threads: 2, batch: b, runs, warmup });
				log(row);
				rows.push(row);
			}
		}
		if (engines.includes('gradbox')) {
			for (const t of threads) {
				for (const c of train) {
					const row = await runOne(browser, base, { engine: 'gradbox', threads: t, batch: trainBatch, train: c, runs, warmup });
					log(row);
					rows.push(row);
				}
			}
		}
	} finally {
		await browser.close();
		server.close();
	}
	return rows;
}

/** bench/train-step.mjs in one Node process (its peak_mb: the wasm heap's size); returns rows. */
export async function runTrainNode({ threads = [1, 2], train = Object.keys(TRAIN_CASES), trainBatch = 16, runs } = {}) {
	const args = [join(ROOT, 'bench/train-step.mjs'), '--json', '--threads', threads.join(','), '--cases', train.join(','),
		'--batch', String(trainBatch), ...(runs ? ['--runs', String(runs)] : [])];
	const { lines, code, tail } = await runNodeChild(args, 3_600_000);
	const rows = lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l))
		.map((r) => ({ ...r, ms_per_image: Math.round((r.median_ms / r.batch) * 10) / 10, env: 'node' }));
	if (code !== 0 || !rows.length) {
		rows.push({ engine: 'gradbox', what: 'train step', threads: threads[0], batch: trainBatch, env: 'node',
			error: `bench/train-step.mjs exit ${code}: ${tail}` });
	}
	return rows;
}

async function main() {
	const json = process.argv.includes('--json');
	const train = process.argv.includes('--no-train') ? [] : list(arg('train', Object.keys(TRAIN_CASES).join(',')));
	for (const c of train) {
		if (!TRAIN_CASES[c]) throw new Error(`--train: unknown case '${c}' (use ${Object.keys(TRAIN_CASES).join(', ')})`);
	}
	const opts = {
		threads: list(arg('threads', '1,2')).map(Number),
		batches: list(arg('batches', '1,8')).map(Number),
		train,
		trainBatch: Number(arg('train-batch', '16')),
		runs: arg('runs') && Number(arg('runs')),
		warmup: arg('warmup') && Number(arg('warmup')),
		proxy: process.argv.includes('--proxy'),
		log: json ? () => {} : (r) => console.error(`  ${r.env} ${r.engine} ${r.what ?? ''} threads=${r.threads} batch=${r.batch}: `
			+ `${r.error ?? `${r.median_ms} ms`}`),
	};
	const engines = list(arg('engines', 'onnxruntime-web,gradbox'));
	const rows = await runPage(engines, opts);
	if (process.argv.includes('--with-node')) {
		rows.push(...await runIsolated(engines, opts));
		if (engines.includes('gradbox') && train.length) {
			const node = await runTrainNode(opts);
			for (const r of node) opts.log(r);
			rows.push(...node);
		}
	}
	if (arg('out')) writeFileSync(arg('out'), `${JSON.stringify(rows, null, 1)}\n`);
	console.log(json ? JSON.stringify(rows, null, 1) : formatTable(rows));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
