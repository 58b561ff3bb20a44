// The project file (web/src/fine-tuning/project-file.js, project-schema.js): a round trip keeps
// everything; hostile files (made here) are refused with a message naming what is wrong.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { packProject, unpackProject, ProjectFileError } from '../../web/src/fine-tuning/project-file.js';
import { readZip, writeZip } from '../../js/safe-zip.mjs';
import { checkSettings } from '../../js/finetune-settings.mjs';
import { craftZip } from './hostile-zip.mjs';

const SHA = 'ab'.repeat(32);
const enc = (s) => new TextEncoder().encode(s);

function sample() {
	const classes = [{ id: 'c-1', label: '<b>cats</b>' }, { id: 'c-2', label: 'dogs & co' }];
	const images = [0, 1, 2].map((i) => ({
		meta: { id: `i-${i}`, classId: classes[i % 2].id, name: `<img src=x onerror=alert(${i})>.png`, type: 'image/png', bytes: 3, width: 1, height: 1, sha256: SHA, addedAt: 1000 + i },
		bytes: new Uint8Array([i, i, i]),
	}));
	const runs = [{
		id: 'r-1', projectId: 'default', settings: checkSettings({ epochs: 2 }), classes,
		history: [{ epoch: 0, trainLoss: 0.7, trainAcc: 0.5, valLoss: NaN, valAcc: null, ms: 12 }],
		status: 'running', startedAt: 5, weights: 'random-0', checkpoint: { epoch: 0, bytes: new Uint8Array([9, 8, 7]), optimizer: new Uint8Array([1, 2]) },
		evaluation: { confusion: [[1, 0], [0, 1]], perClass: [{ correct: 1, total: 1 }], predictions: [{ label: 0, predicted: 0, p: 0.75, probs: new Float32Array([0.75, 0.25]) }] },
	}];
	return { project: { id: 'default', name: 'Mine', classes, settings: checkSettings({ seed: 7 }), updatedAt: 1 }, images, runs };
}

test('round trip: classes, images (bytes and names), settings, runs with curves and checkpoints', () => {
	const s = sample();
	const back = unpackProject(packProject(s));
	assert.deepEqual(back.project, { name: 'Mine', classes: s.project.classes, settings: s.project.settings });
	assert.equal(back.images.length, 3);
	back.images.forEach((im, i) => {
		assert.deepEqual(im.bytes, s.images[i].bytes);
		assert.equal(im.name, s.images[i].meta.name);
		assert.equal(im.classId, s.images[i].meta.classId);
	});
	const r = back.runs[0];
	assert.equal(r.status, 'interrupted', 'a run saved mid-training reopens as interrupted');
	assert.equal(r.weights, 'random-0', 'the backbone the run trained on');
	assert.deepEqual(r.checkpoint, { epoch: 0, bytes: new Uint8Array([9, 8, 7]), optimizer: new Uint8Array([1, 2]) });
	const noOptim = structuredClone(s);
	noOptim.runs[0].checkpoint.optimizer = null;
	assert.equal(unpackProject(packProject(noOptim)).runs[0].checkpoint.optimizer, null);
	assert.deepEqual(r.history, [{ epoch: 0, trainLoss: 0.7, trainAcc: 0.5, valLoss: null, valAcc: null, ms: 12 }]);
	assert.deepEqual(r.evaluation, { ...s.runs[0].evaluation, predictions: [{ label: 0, predicted: 0, p: 0.75, probs: [0.75, 0.25] }] }, 'typed arrays come back as lists');
});

/** The sample's zip with project.json changed by `edit(doc)` (and entries dropped by name). */
function tampered(edit, drop = []) {
	const entries = readZip(packProject(sample()));
	const doc = JSON.parse(new TextDecoder().decode(entries.get('project.json')));
	const out = edit(doc) ?? doc;
	entries.set('project.json', enc(typeof out === 'string' ? out : JSON.stringify(out)));
	for (const d of drop) entries.delete(d);
	return writeZip([...entries]);
}

test('hostile project.json: prototype keys, unknown fields, wrong types, bad references', () => {
	const cases = [
		[(d) => JSON.stringify(d).replace('"project":{', '"project":{"__proto__":{"polluted":1},'), /project.__proto__ is a forbidden key/],
		[(d) => JSON.stringify(d).replace('"confusion"', '"constructor":{"prototype":{}},"confusion"'), /constructor is a forbidden key/],
		[(d) => { d.project.settings.prototype = 1; }, /prototype is a forbidden key/],
		[(d) => { d.extra = 1; }, /the file.extra is not a known field/],
		[(d) => { d.format = 'zip'; }, /format must be one of/],
		[(d) => { d.version = 2; }, /version must be one of 1/],
		[(d) => { d.project.classes = []; }, /at least one class/],
		[(d) => { d.project.classes[1].label = d.project.classes[0].label; }, /already a class/],
		[(d) => { d.project.classes[0].label = '   '; }, /cannot be empty/],
		[(d) => { d.project.settings.lr = -5; }, /settings is wrong: lr/],
		[(d) => { d.images[0].classId = 'c-9'; }, /classId names a class the project does not have/],
		[(d) => { d.images[1].id = d.images[0].id; }, /images\[1\].id appears twice/],
		[(d) => { d.images[0].file = '../../etc/passwd'; }, /images\[0\].file has characters/],
		[(d) => { d.images[0].sha256 = 'xyz'; }, /sha256 has characters/],
		[(d) => { d.images[0].addedAt = 'yesterday'; }, /addedAt must be a whole number/],
		[(d) => { d.runs[0].status = 'exploded'; }, /status must be one of/],
		[(d) => { d.runs[0].weights = '<b>x</b>'; }, /weights has characters/],
		[(d) => { d.runs[0].history[0].trainLoss = 'x'; }, /trainLoss must be a number/],
		[(d) => { delete d.images; }, /the file.images is missing/],
		[() => '{"format": ', /not valid JSON/],
		[(d) => { d.images = Array.from({ length: 50_001 }, () => d.images[0]); }, /at most 50000/],
	];
	for (const [edit, why] of cases) {
		assert.throws(() => unpackProject(tampered(edit)), (err) => err instanceof ProjectFileError && why.test(err.message), String(why));
	}
	assert.equal(Object.prototype.polluted, undefined);
});

test('missing entries are named; not-a-zip and zips that are not projects say so', () => {
	assert.throws(() => unpackProject(tampered(() => {}, ['images/i-1.png', 'runs/r-1.ckpt'])), /missing 2 entries: images\/i-1.png, runs\/r-1.ckpt/);
	assert.throws(() => unpackProject(tampered(() => {}, ['runs/r-1.optim'])), /missing 1 entry: runs\/r-1.optim/);
	assert.throws(() => unpackProject(tampered((d) => { d.runs[0].checkpoint.optimizerFile = 'runs/../x'; })), /optimizerFile has characters/);
	assert.throws(() => unpackProject(enc('PK not really')), /not a project file that can be opened: this is not a zip file/);
	assert.throws(() => unpackProject(writeZip([['hello.txt', enc('hi')]])), /no project.json/);
	assert.throws(() => unpackProject(craftZip([{ name: 'project.json', data: enc('{}') }, { name: '../x', data: enc('x') }])), /`\.\.`/);
	assert.throws(() => unpackProject(craftZip([{ name: 'project.json', data: enc('{}'), usize: 2 ** 31 }])), /would be 2147483648 bytes/);
	assert.throws(() => unpackProject(craftZip([{ name: 'project.json', data: new Uint8Array([0xff, 0xfe]) }])), /not UTF-8/);
});
