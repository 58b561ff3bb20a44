// lesson.mjs: the default lesson (a, b, Q = 3a³ − b², Q.backward([1, 1]), the
// state and graph as JSON) timed in each build of the lesson module (what the
// page runs), plus the sizes of both modules' wasm files.
//   node bench/lesson.mjs [--runs N]
// Prints a table; the target (issue 2) is < 1 ms per lesson.
import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { loadEngine } from '../js/engine.mjs';

const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 2000;
const wasmDir = fileURLToPath(new URL('../web/public/wasm/', import.meta.url));
const lesson = [
	{ op: 'tensor', name: 'a', data: [2, 3], requires_grad: true },
	{ op: 'tensor', name: 'b', data: [6, 4], requires_grad: true },
	{ op: 'assign', name: 'Q', expr: '3*a**3 - b**2' },
	{ op: 'backward', name: 'Q', gradient: [1, 1] },
];

const rows = [];
for (const build of ['mt', 'simd', 'scalar']) {
	const eng = await loadEngine({ build, module: 'lesson' });
	for (let i = 0; i < 200; i++) eng.run(lesson);          // warm up (V8 tiers up hot functions)
	const t = [];
	for (let i = 0; i < runs; i++) {
		const t0 = performance.now();
		const res = eng.run(lesson);
		t.push(performance.now() - t0);
		if (!res.steps.at(-1).ok) throw new Error(res.steps.at(-1).error);
	}
	eng.dispose();
	t.sort((x, y) => x - y);
	rows.push({
		build, 'median ms': t[runs >> 1].toFixed(4), 'min ms': t[0].toFixed(4), 'p99 ms': t[Math.floor(runs * 0.99)].toFixed(4),
		'lesson wasm KB': (statSync(`${wasmDir}gradbox-lesson-${build}.wasm`).size / 1024).toFixed(1),
		'full wasm KB': (statSync(`${wasmDir}gradbox-${build}.wasm`).size / 1024).toFixed(1),
	});
}
console.log(`default lesson: forward + backward + state/graph JSON (parsed), ${runs} runs`);
console.table(rows);
