// node.mjs: `gradbox bench`, every Node row in one run (bench/README.md says why each is so):
//   1. forward, eval, 224x224, batch 1 and 8, 1 and 2 threads: for each (threads, batch),
//      ONNX Runtime Web alone (bench/ort/ort-node.mjs), then Gradbox and native PyTorch
//      alternated in one process (bench/torch/torch-node.mjs: the `÷ torch` ratios);
//   2. the scaling rows: Gradbox's 2 threads against 1, alternated (bench/ort, benchScaling);
//   3. a training step at batch 16 for (a) fc, (b) layer4 + fc, (c) everything, 1 and 2
//      threads, Gradbox and PyTorch alternated, with Gradbox's wasm heap peak.
// Every row carries the run's date, commit, machine and runtime versions; --save appends them
// to bench/results.jsonl, from which `node bench/results.mjs` writes bench/RESULTS.md.
//   node bench/node.mjs [--threads 1,2] [--batches 1,8] [--cases a,b,c] [--runs N] [--json]
//                       [--save [FILE]] [--no-ort] [--no-train]
// Nothing but the table (or, with --json, the JSON array of rows) goes to stdout; progress
// goes to stderr.
import { execFileSync } from 'node:child_process';
import { appendFileSync, readFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { formatTable } from './ort/bench-core.mjs';
import { ROOT } from './ort/contestants-node.mjs';
import { ensureOnnx, runChild } from './ort/ort-node.mjs';
import { formatTargets } from './report.mjs';
import { runForwardPair, runTrainPair, TORCH_PYTHON, torchVersion } from './torch/torch-node.mjs';

export const RESULTS_FILE = join(ROOT, 'bench', 'results.jsonl');

const quiet = (cmd, args) => {
	try {
		return execFileSync(cmd, args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
	} catch {
		return null;
	}
};

/** What a row needs to be read later: when, which code, which machine, which runtimes. */
export function runInfo(torch = torchVersion()) {
	const cpu = cpus();
	const ort = JSON.parse(readFileSync(join(ROOT, 'node_modules', 'onnxruntime-web', 'package.json'), 'utf8')).version;
	return {
		date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
		commit: quiet('git', ['describe', '--always', '--dirty', '--abbrev=7']),
		machine: { cpu: cpu[0]?.model ?? null, cores: cpu.length, mem_gb: Math.round(totalmem() / 2 ** 30), kernel: release() },
		runtimes: { node: process.versions.node, 'onnxruntime-web': ort, torch,
			emscripten: quiet('emcc', ['--version'])?.match(/\d+\.\d+\.\d+/)?.[0] ?? null },
	};
}

/** Runs the bench; returns its rows, each with runInfo()'s fields. */
export async function benchNode({ threads = [1, 2], batches = [1, 8], cases = ['a', 'b', 'c'], runs, ort = true,
	train = true, log = () => {} } = {}) {
	const info = runInfo();
	if (!info.runtimes.torch) log(`PyTorch: ${TORCH_PYTHON} cannot import torch and torchvision; its rows are skipped`);
	if (ort) ensureOnnx();
	const rows = [];
	const load = () => Math.round(loadavg()[0] * 10) / 10;
	const add = (r, before) => {
		for (const row of [r].flat()) {
			row.load1 ??= [before, load()];   // the 1-minute load average before / after its process
			log(`  ${row.engine} ${row.what} threads=${row.threads} batch=${row.batch}: ${row.error ?? `${row.median_ms} ms`}`);
			rows.push(row);
		}
	};
	const run = async (child) => { const before = load(); add(await child(), before); };
	for (const t of threads) {
		for (const b of batches) {
			if (ort) await run(() => runChild('onnxruntime-web', t, b, { runs }));
			await run(() => runForwardPair(t, b, { runs }));
		}
	}
	if (threads.includes(1) && threads.includes(2)) for (const b of batches) await run(() => runChild('gradbox-scaling', 2, b, { runs }));
	if (train) for (const t of threads) for (const k of cases) await run(() => runTrainPair(t, k, { runs }));
	return rows.map((r) => ({ ...r, ...info }));
}

/** The text `gradbox bench` prints: the targets, then every row. */
export function formatBench(rows) {
	const i = rows[0] ?? {};
	const head = `ResNet-18 224x224 in Node ${i.runtimes?.node}, ${i.machine?.cpu} x${i.machine?.cores}, ${i.date} at ${i.commit}`
		+ ` (ONNX Runtime Web ${i.runtimes?.['onnxruntime-web']}, PyTorch ${i.runtimes?.torch ?? 'absent'})`;
	return [head, '', formatTargets(rows), '', formatTable(rows)].join('\n');
}

const arg = (argv, name, dflt) => {
	const i = argv.indexOf(`--${name}`);
	return i >= 0 && i + 1 < argv.length && !argv[i + 1].startsWith('--') ? argv[i + 1] : dflt;
};
const list = (s) => s.split(',').map((v) => v.trim()).filter(Boolean);

/** The command line (bin/gradbox.mjs bench and `node bench/node.mjs`); returns the exit status. */
export async function main(argv) {
	const json = argv.includes('--json');
	const runs = arg(argv, 'runs');
	const rows = await benchNode({
		threads: list(arg(argv, 'threads', '1,2')).map(Number), batches: list(arg(argv, 'batches', '1,8')).map(Number),
		cases: list(arg(argv, 'cases', 'a,b,c')), runs: runs == null ? undefined : Number(runs),
		ort: !argv.includes('--no-ort'), train: !argv.includes('--no-train'), log: (s) => process.stderr.write(`${s}\n`),
	});
	if (argv.includes('--save')) {
		const file = arg(argv, 'save', RESULTS_FILE);
		appendFileSync(file, rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
		process.stderr.write(`appended ${rows.length} rows to ${file}; node bench/results.mjs writes bench/RESULTS.md\n`);
	}
	process.stdout.write(`${json ? JSON.stringify(rows, null, 1) : formatBench(rows)}\n`);
	return rows.some((r) => r.error && r.engine !== 'pytorch') ? 1 : 0;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.exitCode = await main(process.argv.slice(2));
