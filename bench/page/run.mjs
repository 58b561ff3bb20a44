// run.mjs: the ResNet-18 forward benchmark in headless Chromium. Serves the repository's
// bench/, ORT-web's dist/, build/bench/ (the ONNX model), js/ and web/public/wasm/ with
// COOP/COEP on a free port, and opens one fresh page per (engine, threads, batch), so each has
// its own wasm runtime and renderer process. peak_mb is that renderer's peak RSS (VmHWM in
// /proc, wasm memory and the pthread workers included); cpu_per_wall its CPU time over the
// timed runs' wall time.
//
//   node bench/page/run.mjs [--engines onnxruntime-web,gradbox] [--threads 1,2] [--batches 1,8]
//                           [--runs N] [--warmup N] [--proxy] [--with-node] [--json] [--out rows.json]
//   --with-node  also runs bench/ort/ort-node.mjs's configurations: one combined table
//   --proxy      ORT runs in its own worker (ort.env.wasm.proxy) instead of the page's main thread
import { execFileSync } from 'node:child_process';
import { createReadStream, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { loadavg } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

import { formatTable } from '../ort/bench-core.mjs';
import { ensureOnnx, runIsolated } from '../ort/ort-node.mjs';
import { ensureFixtures } from '../../tests/resnet/fixtures.mjs';

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

/** One configuration in a fresh context/page; returns the row. */
async function runOne(browser, base, { engine, threads, batch, runs, warmup, proxy }) {
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
	const q = new URLSearchParams({ engine, threads, batch, ...(runs ? { runs } : {}), ...(warmup != null ? { warmup } : {}), ...(proxy ? { proxy: 1 } : {}) });
	let row;
	const load0 = loadavg()[0];
	try {
		await page.goto(`${base}/bench/page/index.html?${q}`);
		await page.waitForFunction(() => window.__benchResult, null, { timeout: 600_000, polling: 500 });
		row = await page.evaluate(() => window.__benchResult);
	} catch (e) {
		row = { engine, threads, batch, env: 'chromium', error: String(e?.message ?? e).split('\n')[0] };
	}
	row.load1 = [load0, loadavg()[0]].map((v) => Math.round(v * 10) / 10);
	if (logs.length) row.console = logs.slice(0, 5);
	await ctx.close();
	return row;
}

/** Every (engine, threads, batch) in Chromium; returns rows. */
export async function runPage(engines, { threads = [1, 2], batches = [1, 8], runs, warmup, proxy = false, log = () => {} } = {}) {
	ensureOnnx();
	ensureFixtures();   // Gradbox's weights: the fixtures' resnet18.pth (same network as the .onnx)
	const { server, base } = await serve();
	const browser = await chromium.launch({ executablePath: process.env.GB_CHROMIUM ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
	const rows = [];
	try {
		for (const engine of engines) {
			for (const t of threads) {
				for (const b of batches) {
					const row = await runOne(browser, base, { engine, threads: t, batch: b, runs, warmup, proxy });
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

async function main() {
	const json = process.argv.includes('--json');
	const opts = {
		threads: list(arg('threads', '1,2')).map(Number),
		batches: list(arg('batches', '1,8')).map(Number),
		runs: arg('runs') && Number(arg('runs')),
		warmup: arg('warmup') && Number(arg('warmup')),
		proxy: process.argv.includes('--proxy'),
		log: json ? () => {} : (r) => console.error(`  ${r.env} ${r.engine} threads=${r.threads} batch=${r.batch}: ${r.error ?? `${r.median_ms} ms`}`),
	};
	const engines = list(arg('engines', 'onnxruntime-web'));
	const rows = await runPage(engines, opts);
	if (process.argv.includes('--with-node')) rows.push(...await runIsolated(engines, opts));
	if (arg('out')) writeFileSync(arg('out'), `${JSON.stringify(rows, null, 1)}\n`);
	console.log(json ? JSON.stringify(rows, null, 1) : formatTable(rows));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
