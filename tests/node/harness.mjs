// harness.mjs: the same steps programs on every build of the engine: the
// native steps runner (build/native/gradbox-steps) and the three wasm builds.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { flatten, loadEngine, tensorData } from '../../js/engine.mjs';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const NATIVE_RUNNER = process.env.GB_NATIVE_RUNNER ?? `${ROOT}build/native/gradbox-steps`;

const num = (v) => (Object.is(v, -0) ? '-0' : String(v));

// The steps program as the native runner's lines (see tests/native/steps_runner.c).
function toLines(steps) {
	return steps.map((s) => {
		switch (s.op) {
		case 'tensor': {
			const { values, shape } = tensorData(s);
			return `tensor ${s.name} ${s.requires_grad ? 1 : 0} ${shape.length} ${shape.join(' ')} | ${values.map(num).join(' ')}`;
		}
		case 'assign': return `assign ${s.name} ${s.no_grad ? 1 : 0} ${s.expr}`;
		case 'backward': {
			const v = s.gradient == null ? [] : flatten(s.gradient).values;
			return `backward ${s.name} ${s.retain_graph ? 1 : 0} ${v.length ? 1 : 0} | ${v.map(num).join(' ')}`;
		}
		case 'zero_grad': return 'zero_grad';
		case 'gradcheck': {
			const v = s.gradient == null ? [] : flatten(s.gradient).values;
			return `gradcheck ${s.name} ${s.eps ?? 1e-2} ${v.length ? 1 : 0} | ${v.map(num).join(' ')}`;
		}
		case 'snapshot': return `snapshot ${s.root ?? ''}`;
		default: throw new Error(`unknown step ${s.op}`);
		}
	}).join('\n');
}

function nativeRunner() {
	return {
		name: 'native',
		run(steps) {
			const r = spawnSync(NATIVE_RUNNER, { input: `${toLines(steps)}\n`, encoding: 'utf8', timeout: 60_000 });
			if (r.status !== 0) throw new Error(`native runner failed (${r.status}): ${r.stderr}`);
			const out = [];
			for (const line of r.stdout.trim().split('\n')) {
				const res = JSON.parse(line);
				out.push(res);
				if (!res.ok) break;
			}
			return { steps: out };
		},
		dispose() {},
	};
}

/** Every build that is present: native (if built) and the three wasm variants of both modules. */
export async function allRunners() {
	const runners = [];
	if (existsSync(NATIVE_RUNNER)) runners.push(nativeRunner());
	for (const module of ['full', 'lesson']) {
		for (const build of ['mt', 'simd', 'scalar']) {
			const eng = await loadEngine({ build, module });
			const name = module === 'lesson' ? `lesson-${build}` : build;
			runners.push({ name, run: (steps) => eng.run(steps), dispose: () => eng.dispose() });
		}
	}
	return runners;
}

/** Fixture numbers: nested lists with "nan"/"inf" strings → numbers. */
export function fromFixture(v) {
	if (Array.isArray(v)) return v.map(fromFixture);
	if (v === 'nan') return NaN;
	if (v === 'inf') return Infinity;
	if (v === '-inf') return -Infinity;
	return v;
}

/** Asserts two nested lists agree within rtol·|expected| + atol (NaN matches NaN). */
export function assertClose(actual, expected, what, rtol = 1e-5, atol = 1e-6) {
	const a = flatten(actual ?? []).values;
	const e = flatten(expected ?? []).values;
	if ((actual == null) !== (expected == null)) throw new Error(`${what}: got ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`);
	if (a.length !== e.length) throw new Error(`${what}: ${a.length} values, expected ${e.length}`);
	for (let i = 0; i < a.length; i++) {
		const x = a[i] ?? NaN, y = e[i];   // JSON null stands for a non-finite value
		if (Number.isNaN(y) && Number.isNaN(x)) continue;
		if (!Number.isFinite(y) && x === y) continue;
		if (!(Math.abs(x - y) <= rtol * Math.abs(y) + atol)) {
			throw new Error(`${what}[${i}]: got ${x}, expected ${y} (rtol ${rtol})`);
		}
	}
}
