// The training UI's run bookkeeping (web/src/fine-tuning/run-record.js): history, checkpoints,
// divergence message, interrupted runs, chart series, confusion-matrix lookups, file names.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
	newRun, applyEvent, markInterrupted, resumeFrom, chartSeries, formatEta, cellImages,
	confusionOf, confidentlyWrong, exportName, checkpointParts, batchX, addBatchPoint,
} from '../../web/src/fine-tuning/run-record.js';

const settings = { lr: 0.01, epochs: 3 };
const classes = [{ id: 'a', label: 'cat', extra: 1 }, { id: 'b', label: 'dog' }];
const epoch = (e, extra = {}) => ({ type: 'epoch', epoch: e, trainLoss: 1 / (e + 1), trainAcc: 0.5, valLoss: 2 / (e + 1), valAcc: 0.4, ms: 10, ...extra });

test('a new run copies the classes it trains on and starts empty', () => {
	const r = newRun({ projectId: 'p', settings, classes, now: 5 });
	assert.deepEqual(r.classes, [{ id: 'a', label: 'cat' }, { id: 'b', label: 'dog' }]);
	assert.equal(r.status, 'running');
	assert.deepEqual(r.history, []);
	assert.equal(r.checkpoint, null);
	const again = newRun({ from: { ...r, status: 'interrupted', message: 'x' } });
	assert.equal(again.id, r.id);
	assert.equal(again.status, 'running');
	assert.equal(again.message, undefined);
});

test('epoch events grow the history in order, a repeated epoch replaces its row, checkpoints follow', () => {
	let r = newRun({ projectId: 'p', settings, classes });
	const w1 = new Uint8Array([1]), o1 = new Uint8Array([9]);
	r = applyEvent(r, epoch(1, { checkpoint: { weights: w1, optimizer: o1 } }));
	r = applyEvent(r, { type: 'batch', epoch: 2, batch: 1, batches: 4, loss: 0.3 });
	r = applyEvent(r, epoch(2));
	assert.deepEqual(r.history.map((h) => h.epoch), [1, 2]);
	assert.deepEqual(r.checkpoint, { epoch: 1, bytes: w1, optimizer: o1 });   // epoch 2 had none: the last good stays
	r = applyEvent(r, epoch(2, { trainLoss: 9, checkpoint: { weights: new Uint8Array([2]), optimizer: new Uint8Array([3]) } }));
	assert.equal(r.history.length, 2);
	assert.equal(r.history[1].trainLoss, 9);
	assert.equal(r.checkpoint.epoch, 2);
	assert.deepEqual([...r.checkpoint.bytes, ...r.checkpoint.optimizer], [2, 3]);
	assert.deepEqual(checkpointParts({ weights: w1 }), { bytes: w1, optimizer: null });
});

test('divergence ends the run with finetune.mjs\'s message: what happened, what to try', () => {
	let r = applyEvent(newRun({ projectId: 'p', settings: { lr: 1e6, optimizer: 'sgd', momentum: 0.9, unfreeze: 'fc' }, classes }), epoch(1));
	r = applyEvent(r, { type: 'diverged', epoch: 2, batch: 2, what: 'loss', value: 'NaN', restoredEpoch: 1 });
	assert.equal(r.status, 'diverged');
	assert.match(r.message, /loss became NaN in epoch 2, batch 2/);
	assert.match(r.message, /weights of epoch 1 are back/);
	assert.match(r.message, /smaller learning rate \(lr 1000000 → 100000\)/);
});

test('after a reload, running and paused runs are interrupted and resume after their last checkpoint', () => {
	const runs = [{ id: 1, status: 'running' }, { id: 2, status: 'paused' }, { id: 3, status: 'done' }, { id: 4, status: 'diverged' }];
	assert.deepEqual(markInterrupted(runs).map((r) => r.status), ['interrupted', 'interrupted', 'done', 'diverged']);
	const w = new Uint8Array(1), o = new Uint8Array(2);
	const run = { history: [{ epoch: 1 }, { epoch: 2 }, { epoch: 3 }], checkpoint: { epoch: 2, bytes: w, optimizer: o } };
	const from = resumeFrom(run);
	assert.equal(from.epoch, 2);
	assert.deepEqual(from.checkpoint, { weights: w, optimizer: o });
	assert.deepEqual(from.history.map((h) => h.epoch), [1, 2]);
	assert.equal(resumeFrom({ history: [], checkpoint: null }), null);
});

test('chart series: one train and one val series per run, the current run last, gaps as null', () => {
	const old = { id: 'old', history: [{ epoch: 1, trainLoss: 1, valLoss: 2 }, { epoch: 2, trainLoss: NaN, valLoss: 1.5 }] };
	const cur = { id: 'cur', history: [{ epoch: 1, trainLoss: 0.5, valLoss: 0.7, trainAcc: 0.9, valAcc: 0.8 }] };
	const { x, series } = chartSeries([cur, old], 'cur', 'loss');
	assert.deepEqual(x, [1, 2]);
	assert.deepEqual(series.map((s) => `${s.runId}:${s.split}:${s.current}`), ['old:train:false', 'old:val:false', 'cur:train:true', 'cur:val:true']);
	assert.deepEqual(series[0].values, [1, null]);
	assert.deepEqual(series[2].values, [0.5, null]);
	assert.deepEqual(chartSeries([cur], 'cur', 'acc').series[1].values, [0.8]);
	assert.deepEqual(chartSeries([], null, 'acc'), { x: [], series: [] });
});

test('evaluation lookups: matrix, the images of a cell, the most confidently wrong', () => {
	const preds = [
		{ label: 0, predicted: 0, p: 0.9 }, { label: 0, predicted: 1, p: 0.6 },
		{ label: 1, predicted: 0, p: 0.95 }, { label: 1, predicted: 1, p: 0.7 }, { label: 0, predicted: 1, p: 0.8 },
	];
	const ids = ['i0', 'i1', 'i2', 'i3', 'i4'];
	assert.deepEqual(confusionOf(preds, 2), [[1, 2], [1, 1]]);
	assert.deepEqual(cellImages(preds, ids, 0, 1), ['i1', 'i4']);
	assert.deepEqual(cellImages(preds, ids, 1, 1), ['i3']);
	assert.deepEqual(confidentlyWrong(preds, ids, 2).map((p) => p.id), ['i2', 'i4']);
});

test('ETA and file names', () => {
	assert.equal(formatEta(12_400), '12 s');
	assert.equal(formatEta(65_000), '1 min 05 s');
	assert.equal(formatEta(null), '—');
	assert.equal(exportName('My <b>cats</b> & dogs', 'head', 'safetensors'), 'My-b-cats-b-dogs-head.safetensors');
	assert.equal(exportName('', 'model', 'pth'), 'project-model.pth');
	assert.equal(exportName('../../etc', 'x', 'py'), 'etc-x.py');
});

test('batch points: each batch at its place on the epoch axis, a resume replaces later points, a long run thinned', () => {
	const ev = (epoch, batch, loss = epoch + batch / 10) => ({ type: 'batch', epoch, batch, batches: 4, loss });
	assert.equal(batchX(ev(1, 4)), 1);
	assert.equal(batchX(ev(2, 1)), 1.25);
	let pts = [];
	for (const [e, b] of [[1, 1], [1, 2], [1, 3], [1, 4], [2, 1], [2, 2]]) pts = addBatchPoint(pts, ev(e, b));
	assert.deepEqual(pts.map((p) => p.x), [0.25, 0.5, 0.75, 1, 1.25, 1.5]);
	assert.deepEqual(addBatchPoint(pts, ev(2, 3, NaN)), pts, 'a non-finite loss is not drawn');
	// resumed from the end of epoch 1: epoch 2 starts again and its old points go
	pts = addBatchPoint(pts, ev(2, 1, 9));
	assert.deepEqual(pts.map((p) => [p.x, p.loss]), [[0.25, 1.1], [0.5, 1.2], [0.75, 1.3], [1, 1.4], [1.25, 9]]);
	let many = [];
	for (let e = 1; e <= 30; e++) for (let b = 1; b <= 4; b++) many = addBatchPoint(many, ev(e, b), 50);
	assert.ok(many.length <= 50 && many.length > 20, `${many.length} points`);
	assert.equal(many.at(-1).x, 30, 'the newest batch is always drawn');
	assert.ok(many.every((p, i) => i === 0 || p.x > many[i - 1].x));

	const cur = { id: 'cur', history: [{ epoch: 1, trainLoss: 0.5, valLoss: 0.6 }] };
	const old = { id: 'old', history: [{ epoch: 1, trainLoss: 1, valLoss: 2 }, { epoch: 2, trainLoss: 0.9, valLoss: NaN }] };
	const { x, series } = chartSeries([cur, old], 'cur', 'loss', [{ x: 0.5, loss: 3 }, { x: 1, loss: 2 }, { x: 1.5, loss: 1 }]);
	assert.deepEqual(x, [0.5, 1, 1.5, 2]);
	assert.deepEqual(series.map((s) => `${s.runId}:${s.split}`), ['old:train', 'old:val', 'cur:train', 'cur:val', 'cur:batch']);
	// undefined (drawn across) between epochs, null (a gap) at an epoch with no finite value
	assert.deepEqual(series[1].values, [undefined, 2, undefined, null]);
	assert.deepEqual(series[2].values, [undefined, 0.5, undefined, null]);
	assert.deepEqual(series[4].values, [3, 2, 1, undefined]);
	assert.equal(chartSeries([cur], 'cur', 'acc', [{ x: 0.5, loss: 3 }]).series.length, 2, 'accuracy has no batch line');
});
