// cli.test.mjs: `gradbox forward` and `gradbox train-step` as a user runs them (npx gradbox ...),
// against the same PyTorch fixtures as engine.test.mjs (tolerances from the manifest).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { writeNpy } from '../../js/npy.mjs';
import { FIXTURES, PYTHON, ROOT, allclose, caseOf, ensureFixtures, npy, readNpy } from './fixtures.mjs';

let manifest;
const tmp = mkdtempSync(join(tmpdir(), 'gradbox-cli-'));
before(() => { manifest = ensureFixtures(); }, { timeout: 300_000 });
after(() => rmSync(tmp, { recursive: true, force: true }));

const fixture = (f) => join(FIXTURES, f);
const IMAGENET = JSON.parse(readFileSync(join(ROOT, 'assets', 'imagenet_classes.json'), 'utf8'));

function gradbox(...args) {
	const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'gradbox.mjs'), ...args], { encoding: 'utf8', timeout: 120_000 });
	return { code: r.status, out: r.stdout, err: r.stderr };
}
function ok(...args) {
	const r = gradbox(...args);
	assert.equal(r.code, 0, `gradbox ${args.join(' ')}: exit ${r.code}\n${r.err}`);
	return r.out;
}
function close(got, expected, tol, what) {
	const r = allclose(got, expected, tol);
	assert.ok(r.ok, `${what}: max |Δ| ${r.maxErr} > ${tol.atol} + ${tol.rtol}·${r.scale}`);
}
/** softmax of one row, in double */
function softmax(row) {
	const m = Math.max(...row);
	const e = row.map((v) => Math.exp(v - m));
	const s = e.reduce((a, b) => a + b, 0);
	return e.map((v) => v / s);
}

describe('gradbox forward', () => {
	test('--out writes PyTorch\'s logits (mt build, 2 threads, .pth)', () => {
		const c = caseOf(manifest, 'eval_logits');
		const out = join(tmp, 'logits.npy');
		assert.equal(ok('forward', '--weights', fixture('resnet18.pth'), '--input', fixture(c.input), '--threads', '2',
			'--build', 'mt', '--out', out), '', 'nothing printed with --out and no --top');
		const got = readNpy(out);
		assert.deepEqual(got.shape, [2, 1000]);
		close(got.data, npy(c.outputs.logits).data, c.tolerance.logits, 'logits');
	});

	test('prints the logits and each image\'s top 5 with ImageNet names (simd build, .safetensors)', () => {
		const c = caseOf(manifest, 'eval_logits');
		const r = JSON.parse(ok('forward', '--weights', fixture('resnet18.safetensors'), '--input', fixture(c.input), '--build', 'simd'));
		assert.deepEqual(r.shape, [2, 1000]);
		const want = npy(c.outputs.logits).data;
		close(Float32Array.from(r.logits), want, c.tolerance.logits, 'logits');
		assert.equal(r.top.length, 2);
		r.top.forEach((top, n) => {
			const row = r.logits.slice(n * 1000, (n + 1) * 1000);
			const order = Array.from(row.keys()).sort((a, b) => row[b] - row[a]);
			assert.deepEqual(top.map((t) => t.index), order.slice(0, 5), `image ${n}: the 5 largest logits, largest first`);
			const p = softmax(Array.from(want.subarray(n * 1000, (n + 1) * 1000)));   // PyTorch's probabilities
			for (const t of top) {
				assert.equal(t.label, IMAGENET[t.index]);
				assert.ok(Math.abs(t.p - p[t.index]) < 1e-6, `p[${t.index}] ${t.p} vs torch ${p[t.index]}`);
			}
		});
	});

	test('assets/imagenet_classes.json is torchvision\'s list of ImageNet classes', () => {
		const r = spawnSync(PYTHON, [join(ROOT, 'assets', 'gen_imagenet_classes.py'), '--check'], { encoding: 'utf8', timeout: 120_000 });
		assert.equal(r.status, 0, r.stdout + r.stderr);
		assert.equal(IMAGENET.length, 1000);
	});

	test('--top k with --labels from a file, one name per line; markup stays text', () => {
		const labels = Array.from({ length: 1000 }, (_, i) => (i === 0 ? '<b>class 0</b> & co' : `class ${i}`));
		const file = join(tmp, 'labels.txt');
		writeFileSync(file, `${labels.join('\n')}\n`);
		const r = JSON.parse(ok('forward', '--weights', fixture('resnet18.pth'), '--input', fixture('x_small.npy'),
			'--top', '1000', '--labels', file, '--out', join(tmp, 'small.npy')));
		assert.equal(r.top[0].length, 1000);
		assert.deepEqual(r.top[0].map((t) => t.label).sort(), [...labels].sort());
		assert.ok(Math.abs(r.top[0].reduce((s, t) => s + t.p, 0) - 1) < 1e-9, 'all the probabilities sum to 1');
	});

	test('bad input gets a clear message and a non-zero exit', () => {
		const junk = join(tmp, 'junk.pth');
		writeFileSync(junk, '<html>not weights</html>');
		let r = gradbox('forward', '--weights', junk, '--input', fixture('x_small.npy'));
		assert.equal(r.code, 1);
		assert.match(r.err, /not a weights file/);
		r = gradbox('forward', '--weights', fixture('resnet18.pth'), '--input', fixture('x_small.npy'), '--num-classes', '10');
		assert.equal(r.code, 1);
		assert.match(r.err, /fc\.weight/, 'the mismatched key is named');
		const gray = join(tmp, 'gray.npy');
		writeFileSync(gray, writeNpy(new Float32Array(2 * 32 * 32), [2, 1, 32, 32]));
		r = gradbox('forward', '--input', gray);
		assert.equal(r.code, 2);
		assert.match(r.err, /expected \(N, 3, H, W\), got \(2, 1, 32, 32\)/);
		const labels = join(tmp, 'labels.json');
		writeFileSync(labels, JSON.stringify(IMAGENET));
		r = gradbox('forward', '--input', fixture('x_small.npy'), '--labels', labels, '--num-classes', '10');
		assert.equal(r.code, 2);
		assert.match(r.err, /1000 names for 10 classes/);
		r = gradbox('forward', '--input', fixture('x_small.npy'), '--top', '2.5');
		assert.equal(r.code, 2);
		assert.match(r.err, /--top: expected a count/);
	});
});

describe('gradbox train-step', () => {
	for (const [id, extra] of [['sgd_fc_eval', []], ['sgd_fc_train', ['--train-mode']]]) {
		test(`${id}: PyTorch's losses and final logits; the saved weights give those logits again`, () => {
			const c = caseOf(manifest, id);
			const saved = join(tmp, `${id}.pth`);
			const r = JSON.parse(ok('train-step', '--weights', fixture('resnet18.pth'), '--input', fixture(c.input),
				'--targets', c.targets.join(','), '--num-classes', '10', '--seed', '1', '--steps', '3', '--build', 'mt',
				'--out-weights', saved, ...extra));
			close(Float32Array.from(r.losses), Float32Array.from(c.outputs.losses), c.tolerance.losses, 'losses');
			close(Float32Array.from(r.logits), npy(c.outputs.final_eval_logits).data, c.tolerance.final_eval_logits, 'logits');
			const again = JSON.parse(ok('forward', '--weights', saved, '--input', fixture(c.input), '--num-classes', '10', '--build', 'mt'));
			assert.deepEqual(again.logits, r.logits, 'the same engine on the saved state_dict: the same bits');
		});
	}
});
