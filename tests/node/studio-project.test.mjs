// The studio project's pure rules (web/src/fine-tuning/project-model.js): labels, a new project,
// the display order.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkLabel, LabelError, freshProject, sortImages, countByClass, newId } from '../../web/src/fine-tuning/project-model.js';
import { checkSettings } from '../../js/finetune-settings.mjs';

test('labels: any text, trimmed, 1-100 characters, unique', () => {
	assert.equal(checkLabel('  <b>cat</b> & "dog"  '), '<b>cat</b> & "dog"');
	assert.equal(checkLabel('猫 🐈'), '猫 🐈');
	assert.equal(checkLabel('x'.repeat(100)), 'x'.repeat(100));
	assert.equal(checkLabel('🐈'.repeat(100)), '🐈'.repeat(100), 'characters, not UTF-16 units');
	for (const bad of ['', '   ', 'x'.repeat(101), 42, null]) assert.throws(() => checkLabel(bad), LabelError);
	assert.throws(() => checkLabel(' cat', [{ label: 'cat' }]), /already a class named “cat”/);
	assert.equal(checkLabel('Cat', [{ label: 'cat' }]), 'Cat');
});

test('a fresh project has two classes, distinct ids and the default settings', () => {
	const p = freshProject('default');
	assert.equal(p.classes.length, 2);
	assert.notEqual(p.classes[0].id, p.classes[1].id);
	assert.deepEqual(p.settings, checkSettings());
	const ids = new Set(Array.from({ length: 1000 }, () => newId('i')));
	assert.equal(ids.size, 1000);
});

test('display order: class by class in the project order, then addedAt', () => {
	const classes = [{ id: 'b' }, { id: 'a' }];
	const list = [
		{ id: '1', classId: 'a', addedAt: 1 }, { id: '2', classId: 'b', addedAt: 5 },
		{ id: '3', classId: 'b', addedAt: 2 }, { id: '4', classId: 'a', addedAt: 0 }, { id: '5', classId: 'zz', addedAt: 0 },
	];
	assert.deepEqual(sortImages(list, classes).map((m) => m.id), ['3', '2', '4', '1', '5']);
	assert.deepEqual([...countByClass(list)], [['a', 2], ['b', 2], ['zz', 1]]);
});
