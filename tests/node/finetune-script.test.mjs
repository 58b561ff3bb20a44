// finetune-script.test.mjs: js/finetune-script.mjs writes valid Python (parsed by python3's ast)
// for every choice of settings, with the labels exactly as written (markup, quotes, newlines,
// non-ASCII) and PyTorch's lines for each setting. That it trains PyTorch's head is checked in
// tests/resnet/finetune-cli.test.mjs.
//   node --test tests/node/finetune-script.test.mjs
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';

import { checkSettings } from '../../js/finetune-settings.mjs';
import { finetuneScript } from '../../js/finetune-script.mjs';

const PYTHON = process.env.GB_TORCH_PYTHON ?? '/usr/bin/python3';
const LABELS = ['<b>cat</b>', 'dog "rex"', "it's\nmine", 'café 猫 😀', '\\x00 """ \'\'\''];

/** Parses the script with Python's ast and returns the CLASSES list it defines. */
function pythonClasses(script) {
	const r = spawnSync(PYTHON, ['-c', `import ast, json, sys
src = sys.stdin.read()
tree = ast.parse(src)
ns = {}
for node in tree.body:
    if isinstance(node, ast.Assign) and node.targets[0].id == "CLASSES":
        ns["CLASSES"] = ast.literal_eval(node.value)
print(json.dumps(ns["CLASSES"]))`], { input: script, encoding: 'utf8' });
	assert.equal(r.status, 0, r.stderr);
	return JSON.parse(r.stdout);
}

describe('finetune.py', () => {
	test('valid Python with the labels as written, for every choice', () => {
		for (const partial of [{}, { optimizer: 'adam', lr: 1e-3, weightDecay: 1e-4 }, { unfreeze: 'layer4,fc', bnMode: 'train', keepWhole: true },
			{ unfreeze: 'all', augment: true, nesterov: true, momentum: 0.5 }]) {
			const script = finetuneScript({ settings: checkSettings(partial), labels: LABELS });
			assert.deepEqual(pythonClasses(script), LABELS, JSON.stringify(partial));
		}
	});

	test('PyTorch\'s lines for the settings', () => {
		const s = finetuneScript({ settings: checkSettings({ epochs: 3, batchSize: 8, seed: 42, headSeed: 7, lr: 0.001, weightDecay: 0.0005 }), labels: ['a', 'b'] });
		for (const line of ['EPOCHS = 3', 'BATCH_SIZE = 8', 'SEED = 42', 'HEAD_SEED = 7', 'torch.manual_seed(HEAD_SEED)',
			'model.fc = nn.Linear(512, len(CLASSES))', 'T.Resize(256),', 'T.CenterCrop(224),',
			'optimizer = torch.optim.SGD(trainable, lr=0.001, momentum=0.9, weight_decay=0.0005, nesterov=False)',
			'generator=torch.Generator().manual_seed(SEED), num_workers=0', 'model.eval()    # BatchNorm uses its running statistics']) {
			assert.ok(s.includes(line), `missing: ${line}`);
		}
		assert.ok(!s.includes('RandomResizedCrop') && !s.includes('layer4.parameters'));
		const a = finetuneScript({ settings: checkSettings({ optimizer: 'adam', lr: 0.001, augment: true, unfreeze: 'layer4,fc', bnMode: 'train', keepWhole: true }), labels: ['a', 'b'] });
		for (const line of ['torch.optim.Adam(trainable, lr=0.001, betas=(0.9, 0.999), eps=1e-8, weight_decay=0)', 'T.RandomResizedCrop(224),',
			'T.RandomHorizontalFlip(),', 'T.Resize((224, 224)),', 'for p in model.layer4.parameters():', 'model.train()   # BatchNorm normalises',
			'NOTE: augmentation draws random crops']) {
			assert.ok(a.includes(line), `missing: ${line}`);
		}
	});
});
