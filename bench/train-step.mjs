// train-step.mjs: one training step of ResNet-18 at batch 16 (224×224): forward,
// cross-entropy, backward, SGD(lr=1e-2, momentum=0.9), with
//   (a) only fc trainable (the tutorial), (b) layer4 + fc, (c) everything,
// in the mt build with 1 and 2 threads. Peak memory is the wasm heap's size (it never shrinks:
// loading the weights counts too); step_mb is the step's own part (the planned arena of
// activations, flows and work areas, plus the tape: core/gb_plan.h) and conv_weights_mb the
// transformed weights the convolutions keep. The cases and
// the model's setup are shared with the Chromium page (TRAIN_CASES in bench/ort/bench-core.mjs).
//   node bench/train-step.mjs [--threads 1,2] [--cases a,b,c] [--batch 16] [--runs 3] [--json]
// Rows: {engine, what, threads, batch, median_ms, min_ms, max_ms, peak_mb, load_mb, step_mb,
// conv_weights_mb}; --json prints one a line.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { loadEngine } from '../js/engine.mjs';
import { makeInput, setupTrainModel, TRAIN_CASES, TRAIN_SGD, trainTargets } from './ort/bench-core.mjs';
import { ensureFixtures, FIXTURES } from '../tests/resnet/fixtures.mjs';

const arg = (name, dflt) => {
	const i = process.argv.indexOf(`--${name}`);
	return i > 0 ? process.argv[i + 1] : dflt;
};
const threadsList = arg('threads', '1,2').split(',').map(Number);
const batch = Number(arg('batch', '16'));
const runs = Number(arg('runs', '3'));
const cases = arg('cases', 'a,b,c').split(',').map((k) => {
	if (!TRAIN_CASES[k]) throw new Error(`unknown case '${k}' (use ${Object.keys(TRAIN_CASES).join(', ')})`);
	return TRAIN_CASES[k];
});
const json = process.argv.includes('--json');

ensureFixtures();
const weights = readFileSync(join(FIXTURES, 'resnet18.pth'));
const x = makeInput(batch);
const targets = trainTargets(batch);

const rows = [];
for (const threads of threadsList) {
	for (const { what, paths } of cases) {
		const eng = await loadEngine({ build: 'mt', threads });
		const model = setupTrainModel(eng, weights, paths);
		const loadMb = eng.heap().byteLength / 2 ** 20;   // the heap after loading the weights
		const shape = [batch, 3, 224, 224];
		model.trainStep(x, shape, targets, TRAIN_SGD);   // warm-up (V8 tiers up, arenas grow)
		const t = [];
		for (let i = 0; i < runs; i++) {
			const t0 = performance.now();
			model.trainStep(x, shape, targets, TRAIN_SGD);
			t.push(performance.now() - t0);
		}
		const peakMb = eng.heap().byteLength / 2 ** 20;   // wasm memory only grows: its size is the peak
		const stepMb = model.stepInfo().peak_bytes / 2 ** 20;
		const convMb = model.info().conv_weights_bytes / 2 ** 20;
		model.dispose();
		eng.dispose();
		t.sort((p, q) => p - q);
		rows.push({ engine: 'gradbox', what, threads, batch, median_ms: +t[t.length >> 1].toFixed(1),
			min_ms: +t[0].toFixed(1), max_ms: +t.at(-1).toFixed(1), peak_mb: +peakMb.toFixed(0),
			load_mb: +loadMb.toFixed(0), step_mb: +stepMb.toFixed(0), conv_weights_mb: +convMb.toFixed(0) });
		if (!json) console.error(`  ${what}, ${threads} thread(s): ${t[t.length >> 1].toFixed(0)} ms`);
	}
}
if (json) for (const r of rows) console.log(JSON.stringify(r));
else console.table(rows);
