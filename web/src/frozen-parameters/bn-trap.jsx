// The BatchNorm trap: requires_grad=False does not freeze a BatchNorm layer's
// running statistics; model.train() makes every forward update them, and only
// model.eval() stops it.
import { useState } from 'preact/hooks';
import { NotebookCell } from '../shared/notebook-cell.jsx';
import { Py } from '../shared/python-code.jsx';
import { act, busy } from './state.js';
import { image } from './image-choice.js';

const CODE = `before = model.bn1.running_mean.clone()
model.train()
with torch.no_grad():
    model(x)            # every parameter frozen, no gradient anywhere
after_train = model.bn1.running_mean.clone()
print((after_train - before).abs().max())   # not zero: the statistics moved
model.eval()
with torch.no_grad():
    model(x)
print((model.bn1.running_mean - after_train).abs().max())   # tensor(0.): eval() reads them, never updates them`;

const show = (v) => v.toFixed(5);

function maxChange(a, b) {
	return a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
}

export function BatchNormTrap() {
	const [r, setR] = useState(null);
	const run = async () => {
		if (!image.value) return;
		try {
			setR(await act('bn', 'model-bn-trap', { image: image.value.blob, layer: 'bn1' }));
		} catch {
			/* shown by act */
		}
	};
	return (
		<NotebookCell code={<Py code={CODE} />}>
			<button type="button" class="button" data-testid="run-bn" disabled={busy.value || !image.value} onClick={run}>
				Run both forwards
			</button>
			{r && (
				<div data-testid="bn-result" data-json={JSON.stringify(r)}>
					<table class="numbers">
						<thead>
							<tr><th>bn1 channel</th><th>running_mean before</th><th>after train()</th><th>then after eval()</th><th>running_var before</th><th>after train()</th></tr>
						</thead>
						<tbody>
							{[0, 1, 2, 3, 4].map((c) => (
								<tr key={c}>
									<td>{c}</td>
									<td>{show(r.before.running_mean[c])}</td>
									<td data-testid={`bn-train-mean-${c}`}>{show(r.afterTrain.running_mean[c])}</td>
									<td data-testid={`bn-eval-mean-${c}`}>{show(r.afterEval.running_mean[c])}</td>
									<td>{show(r.before.running_var[c])}</td>
									<td>{show(r.afterTrain.running_var[c])}</td>
								</tr>
							))}
						</tbody>
					</table>
					<p>
						Largest change over the 64 channels: after <code>train()</code>{' '}
						<strong data-testid="bn-train-change">{maxChange(r.afterTrain.running_mean, r.before.running_mean).toPrecision(3)}</strong> (mean),
						made by the <code>eval()</code> forward after it{' '}
						<strong data-testid="bn-eval-change">{maxChange(r.afterEval.running_mean, r.afterTrain.running_mean).toPrecision(3)}</strong>.
						Each train-mode forward moves the statistics 10 % of the way (<code>momentum=0.1</code>) towards this batch’s,
						so fine-tuning with a frozen backbone in train mode still changes the backbone. (The page then puts the lesson’s model back as it was.)
					</p>
				</div>
			)}
		</NotebookCell>
	);
}
