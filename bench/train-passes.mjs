// train-passes.mjs: where does a training step spend its time? Op by op and pass by pass.
// A build made with -DGB_PROFILE_PASSES=ON times every forward op (from its record to the
// previous one), every backward node ("op fwd|bwd <name>", engine/core/graph.c) and every
// parallel pass of the kernels under its task's name (engine/threads/gb_pool.h). One engine
// with the given threads runs bench/train-step.mjs's case; the table gives the mean ms per step.
//   emcmake cmake -S . -B build/wasm-prof -DGB_PROFILE_PASSES=ON -DCMAKE_BUILD_TYPE=Release
//   cmake --build build/wasm-prof --target gradbox-mt
//   node bench/train-passes.mjs [--dir build/wasm-prof] [--threads 1] [--train c] [--runs 3] [--json]
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { loadEngine } from '../js/engine.mjs';
import { FIXTURES, ensureFixtures } from '../tests/resnet/fixtures.mjs';
import { makeInput, setupTrainModel, TRAIN_CASES, TRAIN_SGD, trainTargets } from './ort/bench-core.mjs';

const arg = (name, dflt) => {
	const i = process.argv.indexOf(`--${name}`);
	return i > 0 ? process.argv[i + 1] : dflt;
};
const dir = resolve(arg('dir', 'build/wasm-prof'));
const threads = Number(arg('threads', '1'));
const which = arg('train', 'c');
const batch = Number(arg('batch', '16'));
const runs = Number(arg('runs', '3'));
const asJson = process.argv.includes('--json');
if (!existsSync(join(dir, 'gradbox-mt.mjs')) || !TRAIN_CASES[which]) {
	console.error('usage: node bench/train-passes.mjs [--dir DIR] [--threads N] [--train a|b|c] [--runs N]\n' +
		'DIR: a build made with -DGB_PROFILE_PASSES=ON (see the head of this file)');
	process.exit(2);
}
ensureFixtures();
const eng = await loadEngine({ build: 'mt', threads, wasmDir: dir });
if (!eng.M._gb_passes_json) throw new Error(`${dir} was not built with -DGB_PROFILE_PASSES=ON`);
const model = setupTrainModel(eng, readFileSync(join(FIXTURES, 'resnet18.pth')), TRAIN_CASES[which].paths);
const shape = [batch, 3, 224, 224];
const x = makeInput(batch);
const targets = trainTargets(batch);
const passes = new Map();
const steps = { step: 0, forward: 0, backward: 0, optimizer: 0 };
for (let r = 0; r < 1 + runs; r++) {
	eng.M._gb_passes_reset();
	const t0 = performance.now();
	model.trainStep(x, shape, targets, TRAIN_SGD);
	const ms = performance.now() - t0;
	if (r < 1) continue;   // the first step measures its plan
	const info = model.stepInfo();
	steps.step += ms / runs;
	steps.forward += info.forward_ms / runs;
	steps.backward += info.backward_ms / runs;
	steps.optimizer += info.optimizer_ms / runs;
	for (const p of JSON.parse(eng.M.UTF8ToString(eng.M._gb_passes_json()))) {
		const acc = passes.get(p.pass) ?? { calls: 0, ms: 0, busy: 0 };
		acc.calls += p.calls / runs;
		acc.ms += p.ms / runs;
		acc.busy += p.busy_ms.reduce((a, b) => a + b, 0) / runs;
		passes.set(p.pass, acc);
	}
}
const rows = [...passes].map(([pass, a]) => ({ pass, ...a })).sort((a, b) => b.ms - a.ms);
if (asJson) {
	console.log(JSON.stringify({ which, threads, batch, runs, steps, rows }, null, 1));
} else {
	const f = (v) => v.toFixed(1).padStart(8);
	console.log(`${TRAIN_CASES[which].what}, batch ${batch}, ${threads} thread(s), mean of ${runs} steps (ms)`);
	console.log(`step ${f(steps.step)}  forward ${f(steps.forward)}  backward ${f(steps.backward)}  optimizer ${f(steps.optimizer)}`);
	const w = Math.max(...rows.map((r) => r.pass.length));
	for (const kind of ['op', 'pass']) {
		console.log(kind === 'op' ? '\nop by op (forward: since the previous op; backward: the node)' : '\nparallel passes');
		for (const r of rows.filter((r) => (kind === 'op' ? r.pass.startsWith('op ') : !/^(module|op) /.test(r.pass)))) {   // module rows: layers.mjs's
			console.log(`${r.pass.padEnd(w)} ${r.calls.toFixed(0).padStart(5)} ${f(r.ms)}${kind === 'pass' ? f(r.busy) : ''}`);
		}
	}
}
eng.dispose();
process.exit(0);   // the pthread workers would keep Node alive
