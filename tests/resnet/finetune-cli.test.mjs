// finetune-cli.test.mjs: `gradbox finetune` as a user runs it, against the real PyTorch 1.13 /
// torchvision 0.14 (gen_finetune_data.py: a seeded random resnet18 and 3 classes of shapes):
//   - head-only and layer4+fc training; the generated finetune.py, run by python3-torch on the
//     exported dataset zip, gives the same head (and per-epoch losses) within TOL_HEAD
//   - the exported .safetensors / .pth load with load_state_dict(strict=True) into nn.Linear
//     (head) and resnet18 (model) and give the engine's logits
//   - broken files listed with the reason and skipped; bad settings exit 2 naming the flag;
//     missing data and a wrong weights file exit 1 with a message; lr 1e6 diverges and restores
//   node --test tests/resnet/finetune-cli.test.mjs
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { unzipSync } from 'fflate';

import { loadEngine } from '../../js/engine.mjs';
import { writeNpy } from '../../js/npy.mjs';
import { PYTHON, ROOT } from './fixtures.mjs';
import { dataPath, ensureFinetuneData } from './finetune-fixtures.mjs';

// Gradbox and PyTorch sum in different orders (float32): after a few SGD steps the heads agree to
// about 1e-6; TOL_HEAD leaves room for the backbone's rounding when layer4 trains.
const TOL_HEAD = 1e-4, TOL_LOSS = 1e-4, TOL_LOGITS = 1e-4;
const CHECK = join(ROOT, 'tests', 'resnet', 'finetune_check.py');
const tmp = mkdtempSync(join(tmpdir(), 'gradbox-ft-'));
let weights;
before(() => { ensureFinetuneData(); weights = dataPath('resnet18.pth'); }, { timeout: 300_000 });
after(() => rmSync(tmp, { recursive: true, force: true }));

function gradbox(...args) {
	const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'gradbox.mjs'), ...args], { encoding: 'utf8', timeout: 600_000 });
	return { code: r.status, out: r.stdout, err: r.stderr, json: r.status !== 2 && r.stdout ? JSON.parse(r.stdout) : null };
}
function python(...args) {
	const r = spawnSync(PYTHON, args, { encoding: 'utf8', timeout: 600_000 });
	assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
	return r.stdout;
}
const check = (...args) => JSON.parse(python(CHECK, ...args));

function unzipTo(zip, dir) {
	for (const [path, bytes] of Object.entries(unzipSync(readFileSync(zip)))) {
		mkdirSync(dirname(join(dir, path)), { recursive: true });
		writeFileSync(join(dir, path), bytes);
	}
}

/** Trains with the CLI (+ script and zip), then the script on the zip; returns both results. */
function trainBoth(name, args, data = dataPath('data')) {
	const dir = join(tmp, name);
	mkdirSync(dir);
	const r = gradbox('finetune', '--data', data, '--weights', weights, '--build', 'simd', '--out', join(dir, 'head.safetensors'),
		'--script', join(dir, 'finetune.py'), '--zip', join(dir, 'dataset.zip'), ...args);
	assert.equal(r.code, 0, r.err);
	unzipTo(join(dir, 'dataset.zip'), join(dir, 'ds'));
	assert.equal(readFileSync(join(dir, 'ds', 'finetune.py'), 'utf8'), readFileSync(join(dir, 'finetune.py'), 'utf8'));
	python(join(dir, 'finetune.py'), '--data', join(dir, 'ds'), '--weights', weights, '--out', join(dir, 'py'));
	const py = JSON.parse(readFileSync(join(dir, 'py', 'history.json'), 'utf8'));
	const diff = check('diff', join(dir, 'head.safetensors'), join(dir, 'py', 'finetuned_head.pth'));
	return { dir, r, py, diff };
}

describe('gradbox finetune against PyTorch', () => {
	test('head only: the script gives the same head, losses and accuracies', async (t) => {
		const { r, py, diff, dir } = trainBoth('fc', ['--epochs', '3', '--batch-size', '4', '--seed', '5', '--head-seed', '2']);
		const s = r.json;
		assert.equal(s.status, 'done');
		assert.deepEqual(s.classes, ['a_red disc', 'b_green bar', 'c_blue frame']);
		assert.equal(s.train + s.val, 24);
		assert.equal(s.featureCache.on, true);
		assert.equal(r.err.match(/^epoch \d\/3: /gm).length, 3, r.err);
		assert.match(r.err, /features: 24 \/ 24/);
		assert.deepEqual(diff.only_a, []);
		assert.equal(diff.keys, 2);
		t.diagnostic(`head vs PyTorch: max |Δ| fc.weight ${diff.max['fc.weight']}, fc.bias ${diff.max['fc.bias']}`);
		for (const k of ['fc.weight', 'fc.bias']) assert.ok(diff.max[k] <= TOL_HEAD, `${k}: ${diff.max[k]}`);
		s.history.forEach((h, i) => {
			for (const k of ['trainLoss', 'valLoss']) assert.ok(Math.abs(h[k] - py.history[i][k]) <= TOL_LOSS, `epoch ${i + 1} ${k}: ${h[k]} vs ${py.history[i][k]}`);
			for (const k of ['trainAcc', 'valAcc']) assert.equal(h[k], py.history[i][k], `epoch ${i + 1} ${k}`);
		});
		assert.ok(s.evaluation.accuracy >= 0.8, `validation accuracy ${s.evaluation.accuracy}`);
		assert.equal(s.evaluation.confusion.flat().reduce((a, b) => a + b, 0), s.val);
		// the unzipped dataset (train/ and val/ given) trains the very same head
		const again = gradbox('finetune', '--data', join(dir, 'ds'), '--weights', weights, '--build', 'simd', '--epochs', '3', '--batch-size', '4',
			'--seed', '5', '--head-seed', '2', '--out', join(dir, 'again.safetensors'));
		assert.equal(again.code, 0, again.err);
		assert.deepEqual([again.json.train, again.json.val], [s.train, s.val]);
		assert.deepEqual(readFileSync(join(dir, 'again.safetensors')), readFileSync(join(dir, 'head.safetensors')));
		// the head loads into nn.Linear(512, 3) (strict) and gives the engine's logits
		const feats = Float32Array.from({ length: 2 * 512 }, (_, i) => Math.sin(i));
		writeFileSync(join(dir, 'f.npy'), writeNpy(feats, [2, 512]));
		const torchLogits = check('head', join(dir, 'head.safetensors'), '3', join(dir, 'f.npy')).logits;
		const eng = await loadEngine({ build: 'simd' });
		try {
			const model = eng.model(1000, 0);
			model.replaceFc(3, 0);
			model.load(readFileSync(join(dir, 'head.safetensors')), { strict: false });
			const mine = model.headForward(feats, 2, 3);
			torchLogits.forEach((v, i) => assert.ok(Math.abs(v - mine[i]) <= TOL_LOGITS, `logit ${i}: ${mine[i]} vs torch ${v}`));
			model.dispose();
		} finally {
			eng.dispose();
		}
		// and the .pth head the script wrote loads the same way
		const w = check('head', join(dir, 'py', 'finetuned_head.pth'), '3', join(dir, 'f.npy')).logits;
		torchLogits.forEach((v, i) => assert.ok(Math.abs(v - w[i]) <= TOL_LOGITS, 'the two heads agree on logits'));
	});

	for (const [name, args] of [['adam', ['--optimizer', 'adam', '--lr', '1e-3', '--weight-decay', '1e-4', '--epochs', '2', '--seed', '7']],
		['keep-whole', ['--keep-whole', '--nesterov', '--epochs', '2', '--batch-size', '6']],
		['bn-train', ['--bn', 'train', '--epochs', '1', '--batch-size', '8']]]) {
		test(`${name}: the script gives the same head`, (t) => {
			const { r, py, diff } = trainBoth(name, args);
			t.diagnostic(`head vs PyTorch (${name}): ${JSON.stringify(diff.max)}`);
			for (const k of ['fc.weight', 'fc.bias']) assert.ok(diff.max[k] <= TOL_HEAD, `${k}: ${diff.max[k]}`);
			r.json.history.forEach((h, i) => assert.ok(Math.abs(h.trainLoss - py.history[i].trainLoss) <= TOL_LOSS, `epoch ${i + 1}`));
			assert.equal(r.json.featureCache.on, name !== 'bn-train');
		});
	}

	test('a class without held-out images: the script still numbers val/\'s classes as train/\'s', () => {
		const data = join(tmp, 'uneven-data');
		for (const c of ['a_red disc', 'b_green bar', 'c_blue frame']) mkdirSync(join(data, c), { recursive: true });
		copyFileSync(dataPath('data', 'a_red disc', 'img_0.png'), join(data, 'a_red disc', 'img_0.png'));
		for (const c of ['b_green bar', 'c_blue frame']) for (let i = 0; i < 8; i++) copyFileSync(dataPath('data', c, `img_${i}.png`), join(data, c, `img_${i}.png`));
		const { r, py, diff } = trainBoth('uneven', ['--epochs', '2', '--batch-size', '4'], data);
		assert.deepEqual(r.json.evaluation.perClass.map((c) => c.total), [0, 2, 2]);
		for (const k of ['fc.weight', 'fc.bias']) assert.ok(diff.max[k] <= TOL_HEAD, `${k}: ${diff.max[k]}`);
		r.json.history.forEach((h, i) => {
			assert.ok(Math.abs(h.valLoss - py.history[i].valLoss) <= TOL_LOSS, `epoch ${i + 1} valLoss ${h.valLoss} vs ${py.history[i].valLoss}`);
			assert.equal(h.valAcc, py.history[i].valAcc);
		});
	});

	test('.safetensors weights (the page\'s format): the same head, and the script reads them too', async () => {
		const st = join(tmp, 'resnet18.safetensors');
		const eng = await loadEngine({ build: 'simd' });
		try {
			const m = eng.model(1000, 0);
			m.load(readFileSync(weights));
			writeFileSync(st, m.save('safetensors'));
			m.dispose();
		} finally {
			eng.dispose();
		}
		const args = ['--data', dataPath('data'), '--build', 'simd', '--epochs', '2'];
		const a = gradbox('finetune', ...args, '--weights', weights, '--out', join(tmp, 'w-pth.safetensors'));
		const b = gradbox('finetune', ...args, '--weights', st, '--out', join(tmp, 'w-st.safetensors'), '--zip', join(tmp, 'w-st.zip'));
		for (const r of [a, b]) assert.equal(r.code, 0, r.err);
		assert.deepEqual(readFileSync(join(tmp, 'w-st.safetensors')), readFileSync(join(tmp, 'w-pth.safetensors')));
		unzipTo(join(tmp, 'w-st.zip'), join(tmp, 'w-st'));
		python(join(tmp, 'w-st', 'finetune.py'), '--weights', st, '--out', join(tmp, 'w-st', 'py'));
		const diff = check('diff', join(tmp, 'w-st.safetensors'), join(tmp, 'w-st', 'py', 'finetuned_head.pth'));
		for (const k of ['fc.weight', 'fc.bias']) assert.ok(diff.max[k] <= TOL_HEAD, `${k}: ${diff.max[k]}`);
	});

	test('the mt build with 2 threads gives the simd build\'s head, bit for bit', () => {
		const run = (build, out) => gradbox('finetune', '--data', dataPath('data'), '--weights', weights, '--build', build, '--threads', '2',
			'--epochs', '2', '--out', join(tmp, out));
		for (const r of [run('mt', 'mt.safetensors'), run('simd', 'simd.safetensors')]) assert.equal(r.code, 0, r.err);
		assert.deepEqual(readFileSync(join(tmp, 'mt.safetensors')), readFileSync(join(tmp, 'simd.safetensors')));
	});

	test('--augment: the cache is off and says why; seeded, so a run repeats', () => {
		const run = (seed, out) => gradbox('finetune', '--data', dataPath('data'), '--weights', weights, '--build', 'simd', '--augment', '--epochs', '1',
			'--batch-size', '8', '--seed', seed, '--out', join(tmp, out), '--script', join(tmp, `${out}.py`));
		const [a, b, c] = [run('1', 'aug1.safetensors'), run('1', 'aug2.safetensors'), run('2', 'aug3.safetensors')];
		for (const r of [a, b, c]) assert.equal(r.code, 0, r.err);
		assert.deepEqual(a.json.featureCache, { on: false, reason: 'augmentation makes a new crop of each image at every epoch' });
		assert.match(a.err, /features cache off \(augmentation/);
		assert.deepEqual(readFileSync(join(tmp, 'aug1.safetensors')), readFileSync(join(tmp, 'aug2.safetensors')));
		assert.notDeepEqual(readFileSync(join(tmp, 'aug1.safetensors')), readFileSync(join(tmp, 'aug3.safetensors')));
		assert.match(readFileSync(join(tmp, 'aug1.safetensors.py'), 'utf8'), /T\.RandomResizedCrop\(224\),/);
	});

	test('layer4 + fc, --save model .pth: the same state_dict; loads in torch with the engine\'s logits', async (t) => {
		const dir = join(tmp, 'l4');
		const { r, py, diff } = trainBoth('l4', ['--unfreeze', 'layer4,fc', '--epochs', '1', '--batch-size', '8', '--lr', '0.005']);
		assert.equal(r.json.featureCache.on, false);
		t.diagnostic(`head vs PyTorch (layer4+fc): ${JSON.stringify(diff.max)}`);
		for (const k of ['fc.weight', 'fc.bias']) assert.ok(diff.max[k] <= TOL_HEAD, `${k}: ${diff.max[k]}`);
		assert.ok(Math.abs(r.json.history[0].trainLoss - py.history[0].trainLoss) <= TOL_LOSS);
		const m = gradbox('finetune', '--data', dataPath('data'), '--weights', weights, '--build', 'simd', '--unfreeze', 'layer4,fc',
			'--epochs', '1', '--batch-size', '8', '--lr', '0.005', '--save', 'model', '--out', join(dir, 'model.pth'));
		assert.equal(m.code, 0, m.err);
		const md = check('diff', join(dir, 'model.pth'), join(dir, 'py', 'finetuned_model.pth'));
		assert.equal(md.keys, 122);
		const worst = Math.max(...Object.values(md.max));
		t.diagnostic(`whole model vs PyTorch: max |Δ| ${worst}`);
		assert.ok(worst <= TOL_HEAD, `model: ${worst}`);
		// torch's logits of the saved model = the engine's logits of the same file
		const x = Float32Array.from({ length: 3 * 224 * 224 }, (_, i) => Math.sin(i * 0.01));
		writeFileSync(join(dir, 'x.npy'), writeNpy(x, [1, 3, 224, 224]));
		const torchLogits = check('model', join(dir, 'model.pth'), '3', join(dir, 'x.npy')).logits;
		const eng = await loadEngine({ build: 'simd' });
		try {
			const model = eng.model(3, 0);
			model.load(readFileSync(join(dir, 'model.pth')));
			const mine = model.forward(x, [1, 3, 224, 224], 3);
			torchLogits.forEach((v, i) => assert.ok(Math.abs(v - mine[i]) <= TOL_LOGITS * Math.max(1, Math.abs(v)), `logit ${i}: ${mine[i]} vs ${v}`));
			model.dispose();
		} finally {
			eng.dispose();
		}
	});
});

describe('gradbox finetune on bad input', () => {
	test('broken files are listed with the reason and skipped; the rest train', (t) => {
		const r = gradbox('finetune', '--data', dataPath('broken'), '--weights', weights, '--build', 'simd', '--epochs', '1', '--out', join(tmp, 'b.pth'));
		assert.equal(r.code, 0, r.err);
		const { bad } = ensureFinetuneData().broken;
		const skipped = Object.fromEntries(r.json.skipped.map((s) => [s.name, s.reason]));
		t.diagnostic(JSON.stringify(skipped));
		for (const [name, reason] of Object.entries(bad)) {
			assert.ok(skipped[name]?.includes(reason), `${name}: expected '${reason}', got '${skipped[name]}'`);
			assert.ok(r.err.includes(`skipped ${name}: `), `stderr names ${name}`);
		}
		assert.equal(r.json.train + r.json.val, 24);
		// the head as .pth loads strict in torch (fc.weight, fc.bias)
		writeFileSync(join(tmp, 'f1.npy'), writeNpy(new Float32Array(512).fill(0.5), [1, 512]));
		assert.equal(check('head', join(tmp, 'b.pth'), '3', join(tmp, 'f1.npy')).logits.length, 3);
	});

	test('bad settings: exit 2 naming the flag', () => {
		for (const [args, re] of [[['--lr=-1'], /--lr: must be a number from 0 to 1000000, not -1/], [['--unfreeze', 'layer3'], /--unfreeze: must be one of fc \| layer4,fc \| all/],
			[['--batch-size', '2.5'], /--batch-size: must be a whole number/], [['--bn', 'frozen'], /--bn: must be 'eval' or 'train'/],
			[['--nesterov', '--momentum', '0'], /--nesterov: Nesterov momentum requires a momentum/]]) {
			const r = gradbox('finetune', '--data', dataPath('data'), '--weights', weights, '--out', join(tmp, 'x.pth'), ...args);
			assert.equal(r.code, 2, args.join(' '));
			assert.match(r.err, re);
		}
		const r = gradbox('finetune', '--data', dataPath('data'), '--weights', weights, '--out', join(tmp, 'x.onnx'));
		assert.equal(r.code, 2);
		assert.match(r.err, /must end in .safetensors or .pth/);
		const help = spawnSync(process.execPath, [join(ROOT, 'bin', 'gradbox.mjs'), 'finetune', '--help'], { encoding: 'utf8' });
		assert.equal(help.status, 0);
		assert.match(help.stdout, /--unfreeze fc\|layer4,fc\|all/);
	});

	test('no such directory, one class, a wrong weights file: exit 1 with a message', () => {
		let r = gradbox('finetune', '--data', join(tmp, 'nope'), '--weights', weights, '--out', join(tmp, 'x.pth'));
		assert.equal(r.code, 1);
		assert.match(r.err, /no such directory/);
		r = gradbox('finetune', '--data', dataPath('data', 'a_red disc'), '--weights', weights, '--out', join(tmp, 'x.pth'));
		assert.equal(r.code, 1);
		assert.match(r.err, /0 class folder/);
		r = gradbox('finetune', '--data', dataPath('data'), '--weights', dataPath('data', 'a_red disc', 'img_0.png'), '--build', 'simd', '--out', join(tmp, 'x.pth'));
		assert.equal(r.code, 1);
		assert.match(r.err, /do not load into resnet18/);
	});

	test('lr 1e6 diverges: status, message, the last good weights saved', (t) => {
		const r = gradbox('finetune', '--data', dataPath('data'), '--weights', weights, '--build', 'simd', '--unfreeze', 'layer4,fc',
			'--lr', '1e6', '--epochs', '2', '--batch-size', '8', '--out', join(tmp, 'd.safetensors'));
		assert.equal(r.code, 1, r.err);
		assert.equal(r.json.status, 'diverged');
		t.diagnostic(r.json.message);
		assert.match(r.json.message, /diverged; the weights from before training are back\. Try a smaller learning rate/);
		// restored: the saved head is the fresh head of torch.manual_seed(0); nn.Linear(512, 3)
		const fresh = gradbox('finetune', '--data', dataPath('data'), '--weights', weights, '--build', 'simd', '--lr', '1e-9', '--momentum', '0',
			'--epochs', '1', '--batch-size', '24', '--val-fraction', '0', '--out', join(tmp, 'fresh.safetensors'));
		assert.equal(fresh.code, 0, fresh.err);
		const diff = check('diff', join(tmp, 'd.safetensors'), join(tmp, 'fresh.safetensors'));
		assert.ok(Math.max(...Object.values(diff.max)) < 1e-6, JSON.stringify(diff));
	});
});
