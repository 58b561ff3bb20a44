// ab.mjs: is build B faster than build A? Both wasm builds load into one Node process and
// run ResNet-18 eval forwards (or, with --train, training steps) in turn (A, B, A, B, ...), so a
// slow minute of a shared machine slows both alike; the verdict is the median of the per-pair
// ratios B/A. Two separate runs are no A/B test on this kind of machine: the same wasm takes
// 76 or 120 ms by the minute.
//   node bench/ab.mjs --a DIR --b DIR [--threads 1] [--batch 1 (train: 16)] [--runs 20 (train: 6)]
//                     [--train a|b|c]
// DIR holds a gradbox-mt.{mjs,wasm,worker.js} (e.g. build/wasm of another checkout, or
// web/public/wasm). Forwards use random weights (only the time matters); training steps are
// bench/train-step.mjs's cases (a) fc, (b) layer4 + fc, (c) everything.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { loadEngine } from '../js/engine.mjs';
import { FIXTURES, ensureFixtures } from '../tests/resnet/fixtures.mjs';
import { makeInput, setupTrainModel, TRAIN_CASES, TRAIN_SGD, trainTargets } from './ort/bench-core.mjs';

const arg = (name, dflt) => {
	const i = process.argv.indexOf(`--${name}`);
	return i > 0 ? process.argv[i + 1] : dflt;
};
if (!arg('a') || !arg('b')) {
	console.error('usage: node bench/ab.mjs --a DIR --b DIR [--threads N] [--batch N] [--runs N] [--train a|b|c]');
	process.exit(2);
}
const dirs = [resolve(arg('a')), resolve(arg('b'))];
const threads = Number(arg('threads', '1'));
const train = arg('train');
if (train && !TRAIN_CASES[train]) {
	console.error(`unknown training case '${train}' (use ${Object.keys(TRAIN_CASES).join(', ')})`);
	process.exit(2);
}
const batch = Number(arg('batch', train ? '16' : '1'));
const runs = Number(arg('runs', train ? '6' : '20'));
const warmup = train ? 1 : 2;

if (train) ensureFixtures();
const weights = train ? readFileSync(join(FIXTURES, 'resnet18.pth')) : null;
const engines = [];
const models = [];
for (const wasmDir of dirs) {
	const eng = await loadEngine({ build: 'mt', threads, wasmDir });
	let model;
	if (train) {
		model = setupTrainModel(eng, weights, TRAIN_CASES[train].paths);
	} else {
		model = eng.model(1000, 0);
		model.setRequiresGrad('', false);
		model.train(false);
	}
	engines.push(eng);
	models.push(model);
}
const shape = [batch, 3, 224, 224];
const x = makeInput(batch);
const targets = trainTargets(batch);
const run = (model) => (train ? model.trainStep(x, shape, targets, TRAIN_SGD) : model.forward(x, shape, 1000));

const times = [[], []];
for (let r = 0; r < warmup + runs; r++) {
	for (let k = 0; k < 2; k++) {
		const t0 = performance.now();
		run(models[k]);
		if (r >= warmup) times[k].push(performance.now() - t0);
	}
}
const median = (a) => [...a].sort((p, q) => p - q)[a.length >> 1];
const ratios = times[1].map((t, i) => t / times[0][i]);
for (const [k, name] of [[0, 'A'], [1, 'B']]) {
	console.log(`${name} ${dirs[k]}: median ${median(times[k]).toFixed(1)} ms, fastest ${Math.min(...times[k]).toFixed(1)} ms`);
}
const r = median(ratios);
console.log(`B/A (median of ${runs} pairs, ${train ? `train step (${train})` : 'eval forward'}, ${threads} thread(s), batch ${batch}): ${r.toFixed(3)}` +
	` (pairs from ${Math.min(...ratios).toFixed(3)} to ${Math.max(...ratios).toFixed(3)})`);
for (const m of models) m.dispose();
for (const e of engines) e.dispose();
process.exit(0);   // the pthread workers would keep Node alive
