// How the trained head does on the held-out images: accuracy per class, the confusion matrix
// (rows: true class, columns: predicted; a cell opens the images it counts) and the images it
// got wrong most confidently. Labels are the learner's text, rendered as text.
// Guarded by tests/e2e/studio-train.spec.mjs ("full fine-tune": the matrix's cells and their images).
import { useEffect, useState } from 'preact/hooks';
import { thumbUrl, openImagesById } from './state.js';
import { cellImages, confusionOf, confidentlyWrong } from './run-record.js';
import { pct } from './run-controls.jsx';
import { headReady, live, evaluateNow } from './training-state.js';

function PerClass({ labels, matrix }) {
	return (
		<table class="per-class" data-testid="per-class">
			<caption>Accuracy per class</caption>
			<thead><tr><th scope="col">class</th><th scope="col">correct</th><th scope="col">images</th><th scope="col">accuracy</th></tr></thead>
			<tbody>
				{labels.map((label, i) => {
					const total = matrix[i].reduce((a, b) => a + b, 0);
					return (
						<tr key={i}>
							<th scope="row">{label}</th>
							<td>{matrix[i][i]}</td>
							<td>{total}</td>
							<td data-testid={`class-acc-${i}`}>{total ? pct(matrix[i][i] / total) : '—'}</td>
						</tr>
					);
				})}
			</tbody>
		</table>
	);
}

function Confusion({ labels, matrix, predictions, ids }) {
	const max = Math.max(1, ...matrix.flat());
	return (
		<div class="confusion-wrap">
			<table class="confusion" data-testid="confusion">
				<caption>Confusion matrix: rows are the true class, columns the predicted one. Click a cell to see its images.</caption>
				<thead>
					<tr><th scope="col">true \ predicted</th>{labels.map((l, j) => <th key={j} scope="col">{l}</th>)}</tr>
				</thead>
				<tbody>
					{matrix.map((row, i) => (
						<tr key={i}>
							<th scope="row">{labels[i]}</th>
							{row.map((n, j) => (
								<td key={j} class={i === j ? 'diag' : n ? 'miss' : ''} style={{ '--w': n / max }}>
									<button type="button" data-testid={`cell-${i}-${j}`} disabled={!n}
										aria-label={`${n} images of ${labels[i]} predicted as ${labels[j]}`}
										onClick={() => openImagesById(cellImages(predictions, ids, i, j))}>
										{n}
									</button>
								</td>
							))}
						</tr>
					))}
				</tbody>
			</table>
		</div>
	);
}

function Thumb({ id, alt }) {
	const [url, setUrl] = useState(null);
	useEffect(() => {
		let live = true;
		thumbUrl(id).then((u) => live && setUrl(u), () => {});
		return () => { live = false; };
	}, [id]);
	return url ? <img src={url} alt={alt} width="72" height="72" loading="lazy" /> : <span class="thumb-placeholder" />;
}

function ConfidentlyWrong({ labels, predictions, ids }) {
	const wrong = confidentlyWrong(predictions, ids, 8);
	if (!wrong.length) return <p data-testid="no-wrong">No held-out image was misclassified.</p>;
	return (
		<div>
			<h5>Most confidently wrong</h5>
			<ul class="wrong-list" data-testid="confident-wrong">
				{wrong.map((w) => (
					<li key={w.id}>
						<button type="button" class="link-button" onClick={() => openImagesById([w.id])}>
							<Thumb id={w.id} alt={`an image of ${labels[w.label]}`} />
						</button>
						<span>is <strong>{labels[w.label]}</strong>, predicted <strong>{labels[w.predicted]}</strong> ({pct(w.p)})</span>
					</li>
				))}
			</ul>
		</div>
	);
}

/** The evaluation of `run` (null until a run finished an evaluation). */
export function EvaluationPanel({ run }) {
	const ev = run?.evaluation;
	const again = headReady.value && !live.value && (
		<button type="button" class="chip" data-testid="evaluate" onClick={evaluateNow}>
			{ev ? 'Evaluate again on the images as they are now' : 'Evaluate this head'}
		</button>
	);
	if (!ev) return again ? <section class="evaluation" data-testid="evaluation">{again}</section> : null;
	const labels = run.classes.map((k) => k.label);
	const predictions = ev.predictions ?? [];
	const matrix = ev.confusion ?? confusionOf(predictions, labels.length);
	const total = matrix.flat().reduce((a, b) => a + b, 0);
	const correct = matrix.reduce((a, row, i) => a + row[i], 0);
	return (
		<section class="evaluation" aria-labelledby="h-eval" data-testid="evaluation">
			<h4 id="h-eval">How the head does</h4>
			<p>
				On the {ev.on === 'train' ? 'training images (none are held out)' : 'held-out validation images'}:{' '}
				<strong data-testid="eval-accuracy" data-value={total ? correct / total : ''}>{total ? pct(correct / total) : '—'}</strong>{' '}
				({correct} of {total} right). {again}
			</p>
			<PerClass labels={labels} matrix={matrix} />
			<Confusion labels={labels} matrix={matrix} predictions={predictions} ids={ev.ids ?? []} />
			<ConfidentlyWrong labels={labels} predictions={predictions} ids={ev.ids ?? []} />
		</section>
	);
}
