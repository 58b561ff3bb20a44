// Who gets a gradient: forward, cross-entropy and backward on the chosen
// image with the current freeze state; which parameters got a .grad, where
// backward stopped, and what it cost against everything trainable.
import { useState } from 'preact/hooks';
import { signal } from '@preact/signals';
import { NotebookCell, CellOutput } from '../shared/notebook-cell.jsx';
import { Py } from '../shared/python-code.jsx';
import { CodeField } from '../shared/code-field.jsx';
import { LongOutput } from '../shared/long-output.jsx';
import { act, busy, snapshot } from './state.js';
import { image } from './image-choice.js';
import { parameters, trainableNames } from './freeze-state.js';

/** The last run: { result, key: stateKey of the freeze state it ran with }. */
export const gradRun = signal(null);

/** Each parameter's .grad norm (null = None) from a tree after backward. */
export const gradNorms = (tree) => new Map(parameters(tree).map((p) => [p.name, p.gradNorm]));

/** The names that require grad now, to tell a stale run from a current one. */
export const stateKey = (tree) => trainableNames(tree).join(',');

const MB = (b) => `${(b / (1024 * 1024)).toFixed(1)} MB`;
const ms = (v) => `${v.toFixed(1)} ms`;

function CostTable({ step, everything }) {
	const rows = [
		['backward time', ms(step.backward_ms), ms(everything.backward_ms)],
		['forward time', ms(step.forward_ms), ms(everything.forward_ms)],
		['autograd nodes backward ran', `${step.backward_nodes} of ${step.tape_nodes}`, `${everything.backward_nodes} of ${everything.tape_nodes}`],
		['activation memory (peak)', MB(step.peak_bytes), MB(everything.peak_bytes)],
	];
	return (
		<table class="numbers cost" data-testid="grad-cost" data-backward-ms={step.backward_ms} data-everything-backward-ms={everything.backward_ms}
			data-backward-nodes={step.backward_nodes} data-everything-backward-nodes={everything.backward_nodes}>
			<thead><tr><th /><th>this freeze state</th><th>everything trainable</th></tr></thead>
			<tbody>{rows.map(([k, a, b]) => <tr key={k}><th scope="row">{k}</th><td>{a}</td><td>{b}</td></tr>)}</tbody>
		</table>
	);
}

export function WhoGetsGrad() {
	const [target, setTarget] = useState('3');
	const snap = snapshot.value;
	const n = snap?.head.n ?? 10;
	const tOk = /^\d+$/.test(target) && +target < n;
	const run = async () => {
		if (!image.value || !tOk) return;
		try {
			const result = await act('grads', 'model-grads', { image: image.value.blob, target: +target });
			gradRun.value = { result, key: stateKey(result.after.tree) };
		} catch {
			/* shown by act */
		}
	};
	const last = gradRun.value;
	const current = last && snap && last.key === stateKey(snap.tutorial.tree);
	const norms = last ? gradNorms(last.result.after.tree) : null;
	const got = norms ? [...norms].filter(([, v]) => v != null) : [];
	return (
		<>
			<NotebookCell
				code={
					<>
						x = preprocess(image).unsqueeze(<span class="py-number">0</span>){'   '}<span class="py-comment"># the picture below</span>{'\n'}
						loss = nn.functional.cross_entropy(model(x), torch.tensor([
						<CodeField value={target} label="target class" invalid={!tOk} testid="input-grad-target" onInput={setTarget} />
						])){'\n'}model.zero_grad(set_to_none=<span class="py-keyword">True</span>){'\n'}loss.backward(){'\n'}
						<Py code={'for name, p in model.named_parameters():\n    print(name, None if p.grad is None else p.grad.norm())'} />
					</>
				}
			>
				<button type="button" class="button" data-testid="run-grads" disabled={busy.value || !tOk || !image.value} onClick={run}>
					Run forward + backward
				</button>
				{!tOk && <CellOutput text={`IndexError: Target ${target} is out of bounds.`} error />}
				{last && (
					<div class={current ? '' : 'is-stale'} data-testid="grad-result" data-current={current ? 'true' : 'false'}
						data-norms={JSON.stringify(Object.fromEntries(norms))} data-loss={last.result.loss}>
						{!current && <p class="stale-note">The freeze state changed since this run: run it again.</p>}
						<p>
							loss = <code data-testid="grad-loss">{last.result.loss.toFixed(4)}</code>;{' '}
							<strong data-testid="grad-count">{got.length}</strong> of {norms.size} parameter tensors got a <code>.grad</code>; the
							other {norms.size - got.length} stayed <code>None</code>. Backward stopped at{' '}
							<code data-testid="grad-stop">{last.result.step.first_grad_module || '—'}</code>: nothing before it was entered.
						</p>
						<LongOutput
							testid="grad-print"
							preview={8}
							text={[...norms].map(([k, v]) => `${k} ${v == null ? 'None' : `tensor(${v.toFixed(4)})`}`).join('\n')}
						/>
						<h4>what freezing saves</h4>
						<CostTable step={last.result.step} everything={last.result.everything} />
					</div>
				)}
			</NotebookCell>
		</>
	);
}
