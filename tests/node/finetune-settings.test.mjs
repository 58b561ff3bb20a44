// The settings' checks and the stratified, seeded split (js/finetune-settings.mjs).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkSettings, DEFAULT_SETTINGS, featureCache, SettingsError, splitStratified } from '../../js/finetune-settings.mjs';

test('defaults are torch.optim.SGD(lr=1e-2, momentum=0.9) and pass their own checks', () => {
	const s = checkSettings();
	assert.equal(s.lr, 0.01);
	assert.equal(s.momentum, 0.9);
	assert.deepEqual(s.betas, [0.9, 0.999]);
	assert.deepEqual(Object.keys(s).sort(), Object.keys(DEFAULT_SETTINGS).sort());
});

test('a wrong value names its setting and the allowed range', () => {
	const cases = [
		[{ epochs: 0 }, 'epochs'], [{ epochs: 2.5 }, 'epochs'], [{ lr: -1 }, 'lr'], [{ lr: 0 }, 'lr'],
		[{ lr: NaN }, 'lr'], [{ batchSize: '16' }, 'batchSize'], [{ optimizer: 'rmsprop' }, 'optimizer'],
		[{ unfreeze: 'layer3' }, 'unfreeze'], [{ bnMode: 'frozen' }, 'bnMode'], [{ augment: 'yes' }, 'augment'],
		[{ nesterov: true, momentum: 0 }, 'nesterov'], [{ betas: [0.9] }, 'betas'], [{ betas: [0.9, 1] }, 'betas[1]'],
		[{ valFraction: 1 }, 'valFraction'], [{ __proto__x: 1 }, '__proto__x'], [{ seed: -1 }, 'seed'],
	];
	for (const [partial, field] of cases) {
		assert.throws(() => checkSettings(partial), (e) => e instanceof SettingsError && e.field === field && e.message.startsWith(field), JSON.stringify(partial));
	}
	// Adam ignores nesterov's rule
	assert.equal(checkSettings({ optimizer: 'adam', nesterov: true, momentum: 0 }).optimizer, 'adam');
});

test('the feature cache is on only for a frozen, eval-mode backbone without augmentation', () => {
	assert.deepEqual(featureCache(checkSettings()), { on: true, reason: null });
	for (const p of [{ unfreeze: 'layer4,fc' }, { unfreeze: 'all' }, { bnMode: 'train' }, { augment: true }]) {
		const c = featureCache(checkSettings(p));
		assert.equal(c.on, false);
		assert.match(c.reason, /layer|BatchNorm|augmentation/);
	}
});

test('split: stratified, seeded, in input order, never empties a class of its training images', () => {
	const labels = [...Array(10).fill(0), ...Array(5).fill(1), 2, ...Array(3).fill(3)];
	const a = splitStratified(labels, 0.2, 7);
	assert.deepEqual(a, splitStratified(labels, 0.2, 7));
	assert.notDeepEqual(a.val, splitStratified(labels, 0.2, 8).val);
	const count = (idx, c) => idx.filter((i) => labels[i] === c).length;
	assert.deepEqual([0, 1, 2, 3].map((c) => count(a.val, c)), [2, 1, 0, 1]);
	assert.deepEqual([...a.train, ...a.val].sort((x, y) => x - y), labels.map((_, i) => i));
	for (const list of [a.train, a.val]) assert.deepEqual(list, [...list].sort((x, y) => x - y));
	assert.deepEqual(splitStratified([0, 0], 0.9, 1).train.length, 1);
	assert.deepEqual(splitStratified(labels, 0, 1).val, []);
	// adding an image to one class does not move another class's images
	const more = splitStratified([...labels, 3], 0.2, 7);
	assert.deepEqual(more.val.filter((i) => labels[i] !== 3), a.val.filter((i) => labels[i] !== 3));
});
