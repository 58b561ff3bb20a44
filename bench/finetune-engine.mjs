// finetune-engine.mjs: the engine calls of fine-tuning (docs/fine-tuning.md §1), in the mt build
// with 1 and 2 threads: model.features at 224×224 (ms per image, batch 8), a head epoch of
// headStep on 1,000 cached feature rows (batch 32, 10 classes, SGD momentum 0.9), and model.step
// at batch 16 with everything trainable (the "full fine-tune step"). Random weights: speed does
// not depend on them.
//   node bench/finetune-engine.mjs [--threads 1,2] [--runs 3] [--json]
// Rows: {what, threads, median_ms, min_ms, max_ms}; --json prints one a line.
import { loadEngine } from '../js/engine.mjs';

const arg = (name, dflt) => {
	const i = process.argv.indexOf(`--${name}`);
	return i > 0 ? process.argv[i + 1] : dflt;
};
const threadsList = arg('threads', '1,2').split(',').map(Number);
const runs = Number(arg('runs', '3'));
const json = process.argv.includes('--json');

let seed = 1;
const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1;
const images = (n) => Float32Array.from({ length: n * 3 * 224 * 224 }, random);

/** Runs fn once to warm up, then `runs` times; returns the sorted times in ms. */
function timed(fn) {
	fn();
	const t = [];
	for (let i = 0; i < runs; i++) {
		const t0 = performance.now();
		fn();
		t.push(performance.now() - t0);
	}
	return t.sort((a, b) => a - b);
}

/** One epoch of headStep over `feats` (n × 512) in DataLoader order, batches of 32. */
function headEpoch(eng, model, feats, labels, epoch) {
	const n = labels.length;
	const order = eng.randperm(0, n, epoch);
	for (let b = 0; b < n; b += 32) {
		const idx = order.subarray(b, Math.min(n, b + 32));
		const f = new Float32Array(idx.length * 512);
		idx.forEach((r, i) => f.set(feats.subarray(r * 512, (r + 1) * 512), i * 512));
		model.headStep(f, idx.length, Int32Array.from(idx, (r) => labels[r]));
	}
}

const rows = [];
const x8 = images(8);
const x16 = images(16);
for (const threads of threadsList) {
	const eng = await loadEngine({ build: 'mt', threads });
	const model = eng.model(1000, 0);
	model.setRequiresGrad('', false);
	model.replaceFc(10, 1);
	model.train(false);
	const add = (what, t, per = 1) => rows.push({ what, threads, median_ms: +(t[t.length >> 1] / per).toFixed(2),
		min_ms: +(t[0] / per).toFixed(2), max_ms: +(t.at(-1) / per).toFixed(2) });
	add('features, per image (batch 8)', timed(() => model.features(x8, [8, 3, 224, 224])), 8);
	model.setOptimizer({ type: 'sgd', lr: 1e-2, momentum: 0.9 });
	const feats = Float32Array.from({ length: 1000 * 512 }, () => Math.abs(random()));
	const labels = Int32Array.from({ length: 1000 }, (_, i) => i % 10);
	let epoch = 0;
	add('head epoch, 1,000 cached images', timed(() => headEpoch(eng, model, feats, labels, epoch++)));
	model.setRequiresGrad('', true);
	model.setOptimizer({ type: 'sgd', lr: 1e-2, momentum: 0.9 });
	add('step, everything trainable (batch 16)', timed(() => model.step(x16, [16, 3, 224, 224], labels.subarray(0, 16))));
	model.dispose();
	eng.dispose();
	if (!json) console.error(`  ${threads} thread(s) done`);
}
if (json) for (const r of rows) console.log(JSON.stringify(r));
else console.table(rows);
