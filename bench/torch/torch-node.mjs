// torch-node.mjs: Gradbox against native PyTorch (Debian's python3-torch), alternated in one
// run. A Node process per configuration holds Gradbox and drives one PyTorch process
// (torch_runner.py) with the same weights (the fixtures' resnet18.pth), the same input bytes,
// the same thread count and batch; their runs alternate, so a slow minute of this shared
// machine falls on both, and each row's `vs_torch` is the median of the per-pair ratios
// t(Gradbox) / t(PyTorch) (never a ratio of two separate runs: bench/README.md).
//   forward, eval, batch 1 and 8: each timed run follows an untimed one of the same engine
//     (as benchScaling does: the caches then hold what a back-to-back run leaves).
//   training step at batch 16, TRAIN_CASES (a) fc, (b) layer4 + fc, (c) everything: a fresh
//     engine per case, so the wasm heap's size after the steps is that case's peak
//     (`wasm_heap_mb`, as bench/train-step.mjs measures it).
// The rounds start with Gradbox and PyTorch in turn (ABBA), so neither always runs second.
// Without PyTorch (no /usr/bin/python3 with torch and torchvision; GB_TORCH_PYTHON overrides)
// the rows are Gradbox's alone and a `pytorch` row says why.
//   node bench/torch/torch-node.mjs [--threads 1,2] [--batches 1,8] [--cases a,b,c] [--runs N] [--json]
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { loadEngine } from '../../js/engine.mjs';
import { ensureFixtures, FIXTURES } from '../../tests/resnet/fixtures.mjs';
import { defaultRuns, makeInput, maxAbsDiff, setupTrainModel, stats, TRAIN_CASES, TRAIN_RUNS, TRAIN_SGD,
	trainTargets, WHAT } from '../ort/bench-core.mjs';
import { BENCH_DIR, gradboxModel, ROOT } from '../ort/contestants-node.mjs';
import { runChildMode } from '../node-child.mjs';

const SELF = fileURLToPath(import.meta.url);
const RUNNER = join(ROOT, 'bench', 'torch', 'torch_runner.py');
export const TORCH_PYTHON = process.env.GB_TORCH_PYTHON ?? '/usr/bin/python3';

/** PyTorch's version if TORCH_PYTHON imports torch and torchvision, else null. */
export function torchVersion() {
	const r = spawnSync(TORCH_PYTHON, ['-c', 'import torch, torchvision; print(torch.__version__)'],
		{ encoding: 'utf8', timeout: 120_000 });
	return r.status === 0 ? r.stdout.trim() : null;
}

/** A torch_runner.py process: call(cmd, args) sends one command and resolves to its answer. */
export function torchProcess() {
	const p = spawn(TORCH_PYTHON, [RUNNER], { stdio: ['pipe', 'pipe', 'inherit'] });
	let buf = '';
	const waiting = [];
	p.stdout.on('data', (d) => {
		buf += d;
		let i;
		while ((i = buf.indexOf('\n')) >= 0) {
			const line = buf.slice(0, i);
			buf = buf.slice(i + 1);
			waiting.shift()?.resolve(JSON.parse(line));
		}
	});
	p.on('close', (code) => { for (const w of waiting.splice(0)) w.reject(new Error(`torch_runner.py exited (${code})`)); });
	return {
		call(cmd, args = {}) {
			return new Promise((resolve, reject) => {
				waiting.push({ resolve, reject });
				p.stdin.write(`${JSON.stringify({ [cmd]: args })}\n`);
			}).then((a) => { if (a.error) throw new Error(`PyTorch: ${a.error}`); return a; });
		},
		close() { p.stdin.end(); },
	};
}

const sleep = (ms) => new Promise((r) => { setTimeout(r, ms); });
const round = (v, d = 1) => Math.round(v * 10 ** d) / 10 ** d;
const heapMb = (eng) => round(eng.heap().byteLength / 2 ** 20, 0);   // wasm memory only grows
const rssMb = () => round(process.resourceUsage().maxRSS / 1024);

/**
 * Times a(), b() alternated: `warmup` + `runs` rounds, each engine once per round, Gradbox
 * first in even rounds; `before` runs untimed ahead of each timed run. b is null without PyTorch.
 * a() returns ms measured around the call here; b() the ms PyTorch measured itself.
 */
async function alternate(a, b, { warmup, runs, before = false }) {
	const ta = [];
	const tb = [];
	const sides = [
		async (keep) => { if (before) await a.run(); const t0 = performance.now(); await a.run(); if (keep) ta.push(performance.now() - t0); },
		async (keep) => { if (!b) return; if (before) await b.run(); const { ms } = await b.run(); if (keep) tb.push(ms); },
	];
	for (let i = 0; i < warmup + runs; i++) {
		for (const k of i % 2 ? [1, 0] : [0, 1]) {
			await sides[k](i >= warmup);
			await sleep(10);   // let the other side's spinning threads go to sleep
		}
	}
	return { ta, tb };
}

/** The two rows of one configuration from the times of alternate(). */
function rows({ what, threads, batch, ta, tb, gradboxExtra, torchExtra }) {
	const s = stats(ta);
	const g = { engine: 'gradbox', what, threads, batch, ...s, ms_per_image: round(s.median_ms / batch), runs: ta.length,
		times_ms: ta.map((t) => round(t)), env: 'node', paired_with: tb.length ? 'pytorch' : null, ...gradboxExtra };
	if (!tb.length) return [g, { engine: 'pytorch', what, threads, batch, env: 'node', ...torchExtra }];
	const r = stats(ta.map((t, i) => t / tb[i]), 3);
	Object.assign(g, { vs_torch: r.median_ms, vs_torch_min: r.min_ms, vs_torch_max: r.max_ms });
	const p = stats(tb);
	return [g, { engine: 'pytorch', what, threads, batch, ...p, ms_per_image: round(p.median_ms / batch), runs: tb.length,
		times_ms: tb.map((t) => round(t)), env: 'node', paired_with: 'gradbox', ...torchExtra }];
}

export function writeInput(batch) {
	mkdirSync(BENCH_DIR, { recursive: true });
	const x = makeInput(batch);
	const file = join(BENCH_DIR, `input-b${batch}.f32`);
	writeFileSync(file, new Uint8Array(x.buffer));
	return { x, file };
}

export async function startTorch(setup) {
	if (!torchVersion()) return { torch: null, torchExtra: { error: `skipped: ${TORCH_PYTHON} cannot import torch and torchvision (apt-get install python3-torch python3-torchvision)` } };
	const torch = torchProcess();
	const info = await torch.call('setup', setup);
	return { torch, info, torchExtra: { torch: info.torch, setup_ms: info.setup_ms } };
}

async function forwardChild(threads, batch, { runs, warmup }) {
	ensureFixtures();
	const d = defaultRuns(batch);
	const { x, file } = writeInput(batch);
	const shape = [batch, 3, 224, 224];
	const t0 = performance.now();
	const model = await gradboxModel(threads > 1 ? 'mt' : 'simd', threads);
	const setup_ms = round(performance.now() - t0);
	const { torch, torchExtra } = await startTorch({ weights: join(FIXTURES, 'resnet18.pth'), input: file, batch, threads, mode: 'eval' });
	const a = { run: () => model.forward(x, shape, 1000) };
	const b = torch && { run: () => torch.call('run') };
	let check = null;
	if (torch) {   // the same network on the same input: max |logits(Gradbox) - logits(PyTorch)|
		const mine = a.run();
		await b.run();
		check = maxAbsDiff(mine, Float32Array.from((await torch.call('logits')).logits));
	}
	const { ta, tb } = await alternate(a, b, { warmup: warmup ?? d.warmup, runs: runs ?? d.runs, before: true });
	if (torch) Object.assign(torchExtra, { peak_mb: (await torch.call('peak')).peak_rss_mb });
	torch?.close();
	return rows({ what: WHAT, threads, batch, ta, tb, torchExtra,
		gradboxExtra: { setup_ms, check_max_abs_err: check, peak_mb: rssMb(), wasm_heap_mb: heapMb(model.engine), build: model.engine.info?.build } });
}

async function trainChild(threads, key, { runs, warmup, batch = 16 }) {
	ensureFixtures();
	const { what, paths } = TRAIN_CASES[key];
	const weights = join(FIXTURES, 'resnet18.pth');
	const { x, file } = writeInput(batch);
	const shape = [batch, 3, 224, 224];
	const targets = trainTargets(batch);
	const t0 = performance.now();
	const eng = await loadEngine({ build: 'mt', threads });
	const model = setupTrainModel(eng, readFileSync(weights), paths);
	const setup_ms = round(performance.now() - t0);
	const { torch, torchExtra } = await startTorch({ weights, input: file, batch, threads, mode: 'train', paths });
	const losses = [];
	const a = { run: () => model.trainStep(x, shape, targets, TRAIN_SGD) };
	const b = torch && { run: () => torch.call('run') };
	let lossDiff = null;
	if (torch) {   // the first step from the same state: the same loss
		const la = a.run();
		lossDiff = round(Math.abs(la - (await b.run()).loss), 7);
		losses.push(la);
	}
	const { ta, tb } = await alternate(a, b, { warmup: warmup ?? TRAIN_RUNS.warmup, runs: runs ?? TRAIN_RUNS.runs });
	if (torch) Object.assign(torchExtra, { peak_mb: (await torch.call('peak')).peak_rss_mb });
	torch?.close();
	return rows({ what, threads, batch, ta, tb, torchExtra,
		gradboxExtra: { setup_ms, first_loss: losses[0] ?? null, loss_vs_torch: lossDiff, peak_mb: rssMb(), wasm_heap_mb: heapMb(eng), build: 'mt' } });
}

/** Runs one configuration in a fresh Node process; resolves to its rows (or an error row). */
function runChild(kind, threads, which, { runs, warmup, timeoutMs = 1_200_000 }) {
	return runChildMode(SELF, [kind, threads, which], { runs, warmup, timeoutMs }, (error) => {
		const what = kind === 'train' ? TRAIN_CASES[which].what : WHAT;
		return [{ engine: 'gradbox', what, threads, batch: kind === 'train' ? 16 : Number(which), env: 'node', error }];
	});
}

/** Forward rows, batch 1 and 8, paired with PyTorch: one fresh process per (threads, batch). */
export const runForwardPair = (threads, batch, opts = {}) => runChild('fwd', threads, batch, opts);
/** Training rows for case 'a' | 'b' | 'c' at batch 16, paired with PyTorch. */
export const runTrainPair = (threads, key, opts = {}) => runChild('train', threads, key, opts);

const arg = (name, dflt) => {
	const i = process.argv.indexOf(`--${name}`);
	return i > 0 ? process.argv[i + 1] : dflt;
};
const num = (name) => (arg(name) == null ? undefined : Number(arg(name)));

if (process.argv[1] === SELF) {
	if (process.argv.includes('--child')) {
		const i = process.argv.indexOf('--child');
		const [kind, threads, which] = process.argv.slice(i + 1, i + 4);
		const opts = { runs: num('runs'), warmup: num('warmup') };
		let out;
		try {
			out = kind === 'train' ? await trainChild(Number(threads), which, opts) : await forwardChild(Number(threads), Number(which), opts);
		} catch (e) {
			out = [{ engine: 'gradbox', what: kind === 'train' ? TRAIN_CASES[which]?.what : WHAT, threads: Number(threads), env: 'node', error: String(e?.message ?? e) }];
		}
		process.stdout.write(`${JSON.stringify(out)}\n`);
		process.exit(0);   // the pthread workers would keep Node alive
	} else {
		const list = (s) => s.split(',').map((v) => v.trim()).filter(Boolean);
		const opts = { runs: num('runs'), warmup: num('warmup') };
		const all = [];
		for (const t of list(arg('threads', '1,2')).map(Number)) {
			for (const b of list(arg('batches', '1,8')).map(Number)) all.push(...await runForwardPair(t, b, opts));
			for (const k of list(arg('cases', 'a,b,c'))) all.push(...await runTrainPair(t, k, opts));
		}
		if (process.argv.includes('--json')) console.log(JSON.stringify(all, null, 1));
		else console.table(all.map(({ times_ms, ...r }) => r));
	}
}
