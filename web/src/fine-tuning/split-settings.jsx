// split-settings.jsx: the held-out validation split (settings.valFraction, settings.seed):
// stratified per class and seeded (js/finetune-settings.mjs splitStratified), so the same
// settings give the same split on every reload, in the page and in the command line.
import { useState } from 'preact/hooks';
import { project, images, currentSplit, updateSettings } from './state.js';

function NumberSetting({ name, label, value, min, max, step, scale = 1 }) {
	const [draft, setDraft] = useState(null);
	const [error, setError] = useState('');
	const commit = async () => {
		if (draft === null) return;
		try {
			await updateSettings({ [name]: Number(draft) / scale });
			setDraft(null);
			setError('');
		} catch (err) {
			setError(err.message);
		}
	};
	return (
		<label class="studio-setting">
			{label}{' '}
			<input type="number" min={min} max={max} step={step} value={draft ?? String(+(value * scale).toFixed(6))}
				aria-invalid={error ? 'true' : undefined}
				onInput={(e) => setDraft(e.currentTarget.value)} onChange={commit} onBlur={commit}
				onKeyDown={(e) => e.key === 'Enter' && commit()} />
			{error && <span class="studio-field-error" role="alert">{error}</span>}
		</label>
	);
}

/** The split's settings and its counts. */
export function SplitSettings() {
	const s = project.value.settings;
	const { train, val } = currentSplit();
	return (
		<div class="studio-split" role="group" aria-labelledby="h-split">
			<h4 id="h-split">Validation split</h4>
			<p class="note">
				Held out per class (stratified), chosen with the seed: these images are never trained on and measure how well the head
				does on pictures it has not seen. Marked <span class="studio-val-mark is-inline">val</span> in the grids.
			</p>
			<div class="studio-settings-row">
				<NumberSetting name="valFraction" label="held out (%)" value={s.valFraction} min={0} max={90} step={5} scale={100} />
				<NumberSetting name="seed" label="seed" value={s.seed} min={0} step={1} />
			</div>
			<p class="note" role="status" data-testid="split-summary">
				{images.value.length ? `${train.length} for training · ${val.length} for validation` : 'No images yet.'}
			</p>
		</div>
	);
}
