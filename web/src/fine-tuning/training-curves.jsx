// Loss and accuracy per epoch, train (solid) and validation (dashed), drawn with uPlot: the
// current run in colour, the project's earlier runs faded behind it, a legend under each chart.
// The figure's element carries data-points (the current run's epochs drawn), which
// studio-train.spec.mjs watches grow while a run trains.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { chartSeries } from './run-record.js';

const COLOURS = { train: '#1f6feb', val: '#d9480f' };
const FADED = { train: 'rgba(31,111,235,0.22)', val: 'rgba(217,72,15,0.22)' };

function seriesOptions(series, runNumber) {
	return series.map((s) => ({
		label: `${s.current ? 'this run' : `run ${runNumber(s.runId)}`} ${s.split === 'train' ? 'train' : 'validation'}`,
		stroke: s.current ? COLOURS[s.split] : FADED[s.split],
		width: s.current ? 2 : 1.25,
		dash: s.split === 'val' ? [6, 4] : undefined,
		points: { show: true, size: s.current ? 6 : 3 },
		spanGaps: false,
		show: true,
	}));
}

/** One chart (metric 'loss' or 'acc') of the runs, `currentId` in front. */
function Chart({ runs, currentId, metric, title }) {
	const box = useRef(null);
	const plot = useRef(null);
	const shape = useRef('');
	const { x, series } = chartSeries(runs, currentId, metric);
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
				{ label: 'epoch', incrs: [1, 2, 5, 10, 20, 50, 100] },
				{ label: metric === 'acc' ? 'accuracy' : 'cross-entropy loss', size: 56 },
			],
			series: [{ label: 'epoch' }, ...seriesOptions(series, (id) => order.indexOf(id) + 1)],
			legend: { show: true },
		}, data, box.current);
	});
	useEffect(() => () => plot.current?.destroy(), []);
	return (
		<figure class="curve" data-testid={`curve-${metric}`} data-points={points} data-runs={runs.length}>
			<figcaption>{title}</figcaption>
			<div ref={box} />
		</figure>
	);
}

/** The two charts; nothing before the first epoch of the first run. */
export function TrainingCurves({ runs: all, currentId }) {
	// the current run and the five before it: older ones would only crowd the legend
	const drawn = all.filter((r) => r.history.length || r.id === currentId);
	const runs = drawn.slice(-6).concat(drawn.slice(0, -6).filter((r) => r.id === currentId));
	if (!runs.length || !runs.some((r) => r.history.length)) {
		return <p class="muted" data-testid="curves-empty">The loss and accuracy curves appear after the first epoch.</p>;
	}
	return (
		<div class="curves">
			<Chart runs={runs} currentId={currentId} metric="loss" title="Loss per epoch" />
			<Chart runs={runs} currentId={currentId} metric="acc" title="Accuracy per epoch" />
		</div>
	);
}
