// The layer tree's PyTorch code (web/src/frozen-parameters/freeze-state.js):
// for many freeze states set in the engine, the generated lines, run by the
// real PyTorch after the tutorial's cells, must leave exactly the same
// parameters requiring grad. Also the totals line and the presets.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, test } from 'node:test';

import { loadEngine } from '../../js/engine.mjs';
import { freezeCode, parameters, presetNames, presetOf, toggled, totalsText, trainableNames } from '../../web/src/frozen-parameters/freeze-state.js';

const PYTHON = process.env.GB_TORCH_PYTHON ?? '/usr/bin/python3';
let eng;
let model;

before(async () => {
	eng = await loadEngine({ build: 'simd' });
	model = eng.model(1000, 0);
	model.setRequiresGrad('', false);
	model.replaceFc(10, 0);
});
after(() => eng?.dispose());

/** The engine's tree with exactly `names` requiring grad. */
function treeWith(names) {
	model.setRequiresGrad('', false);
	for (const n of names) model.setRequiresGrad(n, true);
	return model.info().tree;
}

/** A seeded mix of whole modules and single tensors. */
function randomState(tree, seed) {
	let s = seed;
	const rand = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
	const all = parameters(tree).map((p) => p.name);
	const modules = ['layer1', 'layer2.0', 'layer3.1.bn2', 'layer4.0.downsample', 'bn1', 'fc', 'layer2.1.conv1'];
	let names = all.filter(() => rand() < 0.15);
	for (const m of modules) if (rand() < 0.4) names = toggled(treeWith(names), m, rand() < 0.7);
	return names;
}

test('the generated code, run by PyTorch after the tutorial’s cells, gives the same requires_grad everywhere', () => {
	const base = treeWith(['fc.weight', 'fc.bias']);
	const all = parameters(base).map((p) => p.name);
	const cases = [
		['fc.weight', 'fc.bias'],
		presetNames(base, 'layer4'),
		all,
		[],
		['layer2.0.bn1.weight', 'layer2.0.bn1.bias', 'fc.weight', 'fc.bias'],
		['fc.weight'],
		all.filter((n) => !n.startsWith('layer3.')),
		...[1, 2, 3, 4, 5, 6].map((seed) => randomState(base, seed)),
	];
	const programs = cases.map((names) => {
		const tree = treeWith(names);
		assert.deepEqual(new Set(trainableNames(tree)), new Set(names), 'the engine took the state');
		return { expected: trainableNames(tree), code: freezeCode(tree).join('\n') };
	});
	const script = `
import json, sys, torch, torchvision
from torch import nn
out = []
for case in json.load(sys.stdin):
    model = torchvision.models.resnet18()
    for param in model.parameters():
        param.requires_grad = False
    model.fc = nn.Linear(512, 10)
    exec(case["code"], {"model": model, "nn": nn, "torch": torch})
    out.append([n for n, p in model.named_parameters() if p.requires_grad])
print(json.dumps(out))
`;
	const r = spawnSync(PYTHON, ['-c', script], { input: JSON.stringify(programs), encoding: 'utf8', timeout: 120_000 });
	assert.equal(r.status, 0, r.stderr);
	const got = JSON.parse(r.stdout);
	programs.forEach((p, i) => assert.deepEqual(got[i], p.expected, `case ${i}:\n${p.code}`));
	// the tutorial's own state needs no extra line; everything is one loop
	assert.deepEqual(programs[0].code, '');
	assert.equal(programs[2].code, 'for param in model.parameters():\n    param.requires_grad = True');
	assert.match(programs[1].code, /^for p in model\.layer4\.parameters\(\):\n {4}p\.requires_grad = True$/);
});

test('presets are recognised, and the totals line counts parameters', () => {
	const base = treeWith(['fc.weight', 'fc.bias']);
	assert.equal(presetOf(base), 'tutorial');
	assert.equal(totalsText(base), 'trainable parameters: 5,130 of 11,181,642 (0.05 %)');
	const l4 = treeWith(presetNames(base, 'layer4'));
	assert.equal(presetOf(l4), 'layer4');
	assert.equal(l4.trainable_params, 5130 + parameters(l4).filter((p) => p.name.startsWith('layer4.')).reduce((s, p) => s + p.numel, 0));
	const everything = treeWith(presetNames(base, 'all'));
	assert.equal(presetOf(everything), 'all');
	assert.equal(totalsText(everything), 'trainable parameters: 11,181,642 of 11,181,642 (100.00 %)');
	assert.equal(presetOf(treeWith(['fc.weight'])), null);
});
