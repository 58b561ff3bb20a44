// layers.mjs: Gradbox's eval forward against native PyTorch's, module by module. A build made
// with -DGB_PROFILE_PASSES=ON (see bench/passes.mjs) times each leaf module and each BasicBlock
// of the forward (engine/nn/forward.c); PyTorch's modules are timed by forward hooks
// (torch_runner.py's `layers`). Same weights, input, threads and batch; the two run in turn
// (each timed forward after an untimed one of its own), and each module's ratio is the median
// of the per-pair ratios; then each BasicBlock whole.
//   node bench/layers.mjs [--dir build/wasm-prof] [--threads 1] [--batch 1] [--runs 10] [--json]
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { loadEngine } from '../js/engine.mjs';
import { ensureFixtures, FIXTURES } from '../tests/resnet/fixtures.mjs';
import { stats } from './ort/bench-core.mjs';
import { startTorch, writeInput } from './torch/torch-node.mjs';

const arg = (name, dflt) => {
	const i = process.argv.indexOf(`--${name}`);
	return i > 0 ? process.argv[i + 1] : dflt;
};
const dir = resolve(arg('dir', 'build/wasm-prof'));
const threads = Number(arg('threads', '1'));
const batch = Number(arg('batch', '1'));
const runs = Number(arg('runs', '10'));
const asJson = process.argv.includes('--json');
if (!existsSync(join(dir, 'gradbox-mt.mjs'))) {
	console.error(`no profiling build in ${dir} (bench/passes.mjs says how to make one)`);
	process.exit(2);
}

ensureFixtures();
const weights = join(FIXTURES, 'resnet18.pth');
const eng = await loadEngine({ build: 'mt', threads, wasmDir: dir });
if (!eng.M._gb_passes_json) throw new Error(`${dir} was not built with -DGB_PROFILE_PASSES=ON`);
const model = eng.model(1000, 0);
model.load(readFileSync(weights));
model.setRequiresGrad('', false);
model.train(false);
const { x, file } = writeInput(batch);
const shape = [batch, 3, 224, 224];
const { torch, torchExtra } = await startTorch({ weights, input: file, batch, threads, mode: 'eval' });
if (!torch) throw new Error(torchExtra.error);

// Per module: our times and PyTorch's, one per round; the forwards' too.
const ours = new Map();
const theirs = new Map();
const total = { ours: [], theirs: [] };
const push = (m, k, v) => { if (!m.has(k)) m.set(k, []); m.get(k).push(v); };
const warmup = 2;
for (let r = 0; r < warmup + runs; r++) {
	for (const side of r % 2 ? ['torch', 'ours'] : ['ours', 'torch']) {
		if (side === 'ours') {
			model.forward(x, shape, 1000);
			eng.M._gb_passes_reset();
			const t0 = performance.now();
			model.forward(x, shape, 1000);
			const ms = performance.now() - t0;
			if (r < warmup) continue;
			total.ours.push(ms);
			for (const p of JSON.parse(eng.M.UTF8ToString(eng.M._gb_passes_json())))
				if (p.pass.startsWith('module ')) push(ours, p.pass.slice(7), p.ms);
		} else {
			await torch.call('run');
			const { ms, modules } = await torch.call('layers');
			if (r < warmup) continue;
			total.theirs.push(ms);
			for (const [k, v] of Object.entries(modules)) push(theirs, k, v);
		}
	}
}
torch.close();

// Where our forward ran a conv with its BatchNorm (and ReLU) as one pass (inference: engine/nn/
// forward.c), it has no BatchNorm row: PyTorch's BatchNorm time goes to its conv's row, named
// "conv+bn" (its ReLU, a module called twice per block, stays in the block's time).
const bnOf = (k) => k.replace(/conv(\d)$/, 'bn$1').replace(/downsample\.0$/, 'downsample.1');
for (const k of [...ours.keys()]) {
	const bn = bnOf(k);
	if (bn === k || ours.has(bn) || !theirs.has(bn) || !theirs.has(k)) continue;
	const sum = theirs.get(k).map((t, i) => t + theirs.get(bn)[i]);
	for (const [m, v] of [[ours, ours.get(k)], [theirs, sum]]) { m.delete(k); m.set(`${k}+bn`, v); }
}
// Each block whole (the residual sum and ReLUs included), the same work on both sides.
const isBlock = (k) => /^layer\d\.\d$/.test(k);
const median = (a) => stats(a, 3).median_ms;
const names = [...[...ours.keys()].filter((k) => !isBlock(k)), ...[...ours.keys()].filter(isBlock)]
	.filter((k) => theirs.has(k));
const rows = names.map((k) => {
	const a = ours.get(k);
	const b = theirs.get(k);
	return { module: k, ours_ms: median(a), torch_ms: median(b), ratio: median(a.map((t, i) => t / b[i])),
		excess_ms: median(a.map((t, i) => t - b[i])) };
});
const top = rows.filter((r) => !/^layer\d\.\d\./.test(r.module));   // the blocks whole, and what lies outside them
const sum = (k) => top.reduce((s, r) => s + r[k], 0);
const forward = { ours_ms: median(total.ours), torch_ms: median(total.theirs),
	ratio: median(total.ours.map((t, i) => t / total.theirs[i])), modules_ours_ms: sum('ours_ms'), modules_torch_ms: sum('torch_ms') };
if (asJson) {
	console.log(JSON.stringify({ threads, batch, runs, rows, forward }, null, 1));
	process.exit(0);
}
const f = (v, d = 2) => (Number.isFinite(v) ? v.toFixed(d) : '-');
console.log(`ResNet-18 eval forward, batch ${batch}, ${threads} thread(s), ${runs} alternated pairs: ms per module (medians)`);
console.log(`${'module'.padEnd(24)} ${'ours'.padStart(7)} ${'torch'.padStart(7)} ${'÷torch'.padStart(7)} ${'excess'.padStart(7)}`);
for (const r of rows)
	console.log(`${r.module.padEnd(24)} ${f(r.ours_ms).padStart(7)} ${f(r.torch_ms).padStart(7)} ${f(r.ratio).padStart(7)} ${f(r.excess_ms).padStart(7)}`);
console.log(`${'stem, blocks, head'.padEnd(24)} ${f(forward.modules_ours_ms).padStart(7)} ${f(forward.modules_torch_ms).padStart(7)}`);
console.log(`${'forward'.padEnd(24)} ${f(forward.ours_ms).padStart(7)} ${f(forward.torch_ms).padStart(7)} ${f(forward.ratio).padStart(7)}`);
eng.dispose();
process.exit(0);   // the pthread workers would keep Node alive
