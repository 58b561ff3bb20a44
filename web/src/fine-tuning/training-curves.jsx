// Loss and accuracy per epoch, train (solid) and validation (dashed), drawn with uPlot: the
// current run in colour, the project's earlier runs faded behind it, a legend under each chart;
// on the loss chart a thin line follows the current run batch by batch, so a slow epoch (the
// whole network training) still moves. The figure's element carries data-points (the current
// run's epochs drawn) and data-batch-points, which studio-train.spec.mjs watches grow.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { chartSeries } from './run-record.js';

const COLOURS = { train: '#1f6feb', val: '#d9480f', batch: 'rgba(31,111,235,0.55)' };
const FADED = { train: 'rgba(31,111,235,0.22)', val: 'rgba(217,72,15,0.22)' };
const SPLIT_NAMES = { train: 'train', val: 'validation', batch: 'each batch' };

function seriesOptions(series, runNumber) {
	return series.map((s) => s.split === 'batch' ? {
		label: 'this run, each batch', stroke: COLOURS.batch, width: 1, points: { show: false }, show: true,
	} : ({
		label: `${s.current ? 'this run' : `run ${runNumber(s.runId)}`} ${SPLIT_NAMES[s.split]}`,
		stroke: s.current ? COLOURS[s.split] : FADED[s.split],
		width: s.current ? 2 : 1.25,
		dash: s.split === 'val' ? [6, 4] : undefined,
		points: { show: true, size: s.current ? 6 : 3 },
		spanGaps: false,
		show: true,
	}));
}

/** One chart (metric 'loss' or 'acc') of the runs, `currentId` in front. */
function Chart({ runs, currentId, metric, title, batchPoints = [] }) {
	const box = useRef(null);
	const plot = useRef(null);
	const shape = useRef('');
	const { x, series } = chartSeries(runs, currentId, metric, batchPoints);
	const current = runs.find((r) => r.id === currentId);
	const points = current ? current.history.length : 0;
	useEffect(() => {
		if (!box.current) return;
		const data = [x, ...series.map((s) => s.values)];
		const key = series.map((s) => `${s.runId}:${s.split}`).join('|');
		if (plot.current && shape.current === key) {
			plot.current.setData(data);
			return;
		}
		plot.current?.destroy();
		shape.current = key;
		const order = runs.map((r) => r.id);
		const width = Math.max(260, Math.min(560, box.current.clientWidth || 480));
		plot.current = new uPlot({
			width, height: 220,
			scales: { x: { time: false }, y: metric === 'acc' ? { range: [0, 1] } : { auto: true } },
			axes: [
				// with the batch line, fractions of an epoch (its first epoch has no whole one to mark)
				{ label: 'epoch', incrs: [...(series.some((s) => s.split === 'batch') ? [0.25, 0.5] : []), 1, 2, 5, 10, 20, 50, 100] },
				{ label: metric === 'acc' ? 'accuracy' : 'cross-entropy loss', size: 56 },
			],
			series: [{ label: 'epoch' }, ...seriesOptions(series, (id) => order.indexOf(id) + 1)],
			legend: { show: true },
		}, data, box.current);
	});
	useEffect(() => () => plot.current?.destroy(), []);
	return (
		<figure class="curve" data-testid={`curve-${metric}`} data-points={points} data-batch-points={batchPoints.length} data-runs={runs.length}>
			<figcaption>{title}</figcaption>
			<div ref={box} />
		</figure>
	);
}

/**
 * The two charts; nothing before the first batch of the first run. `batchLoss` is
 * training-state.js's { runId, points }: drawn when it is the current run's.
 */
export function TrainingCurves({ runs: all, currentId, batchLoss }) {
	// the current run and the five before it: older ones would only crowd the legend
	const drawn = all.filter((r) => r.history.length || r.id === currentId);
	const runs = drawn.slice(-6).concat(drawn.slice(0, -6).filter((r) => r.id === currentId));
	const batchPoints = currentId && batchLoss?.runId === currentId ? batchLoss.points : [];
	if (!runs.length || !(batchPoints.length || runs.some((r) => r.history.length))) {
		return <p class="muted" data-testid="curves-empty">The loss curve appears after the first batch, the accuracy after the first epoch.</p>;
	}
	return (
		<div class="curves">
			<Chart runs={runs} currentId={currentId} metric="loss" title="Loss per epoch, and each batch" batchPoints={batchPoints} />
			<Chart runs={runs} currentId={currentId} metric="acc" title="Accuracy per epoch" />
		</div>
	);
}
