// A training run as the page keeps it (state.js's Run), and what the training UI derives from it:
// the run after each event of js/finetune.mjs, runs a reload interrupted, the chart's series and
// the evaluation's lookups. Pure functions (no DOM, no engine): tests/node/run-record.test.mjs.
import { divergedMessage } from '../../../js/finetune.mjs';

/** Statuses of a run that was still going when the page went away. */
const LIVE = new Set(['running', 'paused']);

/**
 * A new run for `settings` and `classes` ([{ id, label }]); `resume` continues `from` (an
 * interrupted run: same id, history and checkpoint).
 */
export function newRun({ projectId, settings, classes, now = Date.now(), from = null }) {
	if (from) return { ...from, status: 'running', message: undefined };
	return {
		id: `run-${now.toString(36)}-${Math.random().toString(36).slice(2, 8)}`,
		projectId, settings, classes: classes.map(({ id, label }) => ({ id, label })),
		history: [], status: 'running', checkpoint: null, evaluation: null, startedAt: now,
	};
}

/**
 * The run after one training event of js/finetune.mjs (epochs count from 1: an epoch event's
 * `epoch` is the number of finished epochs). An epoch event adds its row to the history
 * (replacing a row of the same epoch, so a resumed run never counts an epoch twice) and keeps its
 * checkpoint as the last good weights; a diverged event ends the run with finetune.mjs's message
 * (what happened, what to try).
 */
export function applyEvent(run, event) {
	if (event.type === 'epoch') {
		const row = { epoch: event.epoch, trainLoss: event.trainLoss, trainAcc: event.trainAcc, valLoss: event.valLoss, valAcc: event.valAcc, ms: event.ms };
		const history = run.history.filter((h) => h.epoch !== event.epoch).concat([row]).sort((a, b) => a.epoch - b.epoch);
		const checkpoint = event.checkpoint ? { epoch: event.epoch, ...checkpointParts(event.checkpoint) } : run.checkpoint;
		return { ...run, history, checkpoint };
	}
	if (event.type === 'diverged') return { ...run, status: 'diverged', message: divergedMessage(event, run.settings) };
	return run;
}

/** A checkpoint of js/finetune.mjs ({ weights, optimizer }) as a Run keeps it: { bytes, optimizer }. */
export function checkpointParts(cp) {
	return { bytes: cp.weights ?? cp.bytes, optimizer: cp.optimizer ?? null };
}

/** The project's runs after a reload: one that was running or paused is now 'interrupted'. */
export function markInterrupted(runs) {
	return runs.map((r) => (LIVE.has(r.status) ? { ...r, status: 'interrupted' } : r));
}

/** js/finetune.mjs's `resume` for a run: after its last checkpointed epoch, its optimizer state as it was. */
export function resumeFrom(run) {
	if (!run?.checkpoint) return null;
	const { epoch, bytes, optimizer } = run.checkpoint;
	return { epoch, checkpoint: { weights: bytes, optimizer }, history: run.history.filter((h) => h.epoch <= epoch) };
}

/** Where batch `batch` of `batches` of epoch `epoch` (from 1) sits on the chart's epoch axis: an epoch's last batch at the epoch's own mark. */
export const batchX = ({ epoch, batch, batches }) => epoch - 1 + batch / batches;

/** Most batch points the loss chart keeps: past it every other one is dropped, so a long run stays cheap to draw. */
export const MAX_BATCH_POINTS = 2000;

/** `points` ([{ x, loss }]) with one batch event's loss added (a finite one; a repeated x replaces its point). */
export function addBatchPoint(points, event, max = MAX_BATCH_POINTS) {
	if (!Number.isFinite(event.loss)) return points;
	const x = batchX(event);
	let next = points.filter((p) => p.x < x).concat([{ x, loss: event.loss }]);
	if (next.length > max) next = next.filter((_, i) => i % 2 === 1 || i === next.length - 1);
	return next;
}

/**
 * The chart's series for one metric ('loss' | 'acc'): x is the epoch (from 1); for every run, a
 * train and a validation series (null where that run has no value: a gap), the current run last.
 * With `batchPoints` (the current run's [{ x, loss }], loss only) x also holds each batch's place
 * and a last series 'batch' follows the loss batch by batch; a series has undefined where it has
 * no point at an x (uPlot draws across undefined, and breaks the line at null).
 * @returns {{ x: number[], series: Array<{ runId, split: 'train'|'val'|'batch', current: boolean, values: (number|null|undefined)[] }> }}
 */
export function chartSeries(runs, currentId, metric, batchPoints = []) {
	const maxEpoch = runs.reduce((m, r) => Math.max(m, ...r.history.map((h) => h.epoch)), 0);
	const epochs = Array.from({ length: maxEpoch }, (_, i) => i + 1);
	const batches = metric === 'loss' ? batchPoints : [];
	const x = [...new Set([...epochs, ...batches.map((p) => p.x)])].sort((a, b) => a - b);
	const at = new Map(x.map((v, i) => [v, i]));
	const ordered = runs.filter((r) => r.id !== currentId).concat(runs.filter((r) => r.id === currentId));
	const series = [];
	for (const r of ordered) {
		for (const split of ['train', 'val']) {
			const key = `${split}${metric === 'loss' ? 'Loss' : 'Acc'}`;
			const values = x.map((v) => (Number.isInteger(v) && v <= maxEpoch ? null : undefined));
			for (const h of r.history) {
				const v = h[key];
				values[at.get(h.epoch)] = typeof v === 'number' && Number.isFinite(v) ? v : null;
			}
			series.push({ runId: r.id, split, current: r.id === currentId, values });
		}
	}
	if (batches.length) {
		const values = x.map(() => undefined);
		for (const p of batches) values[at.get(p.x)] = p.loss;
		series.push({ runId: currentId, split: 'batch', current: true, values });
	}
	return { x, series };
}

/** "1 min 05 s", "12 s", "—": an ETA in words. */
export function formatEta(ms) {
	if (ms == null || !Number.isFinite(ms) || ms < 0) return '—';
	const s = Math.round(ms / 1000);
	if (s < 60) return `${s} s`;
	const m = Math.floor(s / 60);
	return `${m} min ${String(s % 60).padStart(2, '0')} s`;
}

/**
 * The image ids a confusion-matrix cell counts: images of true class `row` predicted as `col`.
 * `predictions` are the evaluation's, in the order of `ids` (the images evaluated).
 */
export function cellImages(predictions, ids, row, col) {
	const out = [];
	predictions.forEach((p, i) => {
		if (p.label === row && p.predicted === col) out.push(ids[i]);
	});
	return out;
}

/** The confusion matrix (rows true, columns predicted) from predictions, for N classes. */
export function confusionOf(predictions, n) {
	const m = Array.from({ length: n }, () => new Array(n).fill(0));
	for (const p of predictions) m[p.label][p.predicted] += 1;
	return m;
}

/** The `k` most confidently wrong predictions, most confident first, with their image ids. */
export function confidentlyWrong(predictions, ids, k = 8) {
	return predictions
		.map((p, i) => ({ ...p, id: ids[i] }))
		.filter((p) => p.label !== p.predicted)
		.sort((a, b) => b.p - a.p)
		.slice(0, k);
}

/** A download's file name: the project's name made safe, then what it holds. */
export function exportName(projectName, what, ext) {
	const base = String(projectName ?? 'project').normalize('NFKD').replace(/[^\w-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 60) || 'project';
	return `${base}-${what}.${ext}`;
}
