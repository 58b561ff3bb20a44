// Try the trained head: drop, pick or paste a new image (or use the webcam) and see the classes
// with their probabilities as bars. Predictions run in the worker on the last trained head, with
// the run's preprocessing (its crop or the whole image).
// Guarded by tests/e2e/studio-train.spec.mjs (picked and pasted pictures, predictions after a reload).
import { useState } from 'preact/hooks';
import { signal } from '@preact/signals';
import { predict, headReady } from './training-state.js';
import { WebcamPredict } from './webcam-predict.jsx';
import { ConfidenceBars } from './confidence-bars.jsx';

/** The last prediction: { name, top: [{ index, label, p }], ms } or { name, error }. */
export const prediction = signal(null);

async function predictFile(file) {
	prediction.value = { name: file.name, pending: true };
	try {
		const r = await predict(file);
		prediction.value = { name: file.name, top: r.top, ms: r.ms, logits: r.logits };
	} catch (err) {
		prediction.value = { name: file.name, error: err.message };
	}
}

function firstImage(items) {
	for (const f of items ?? []) if (f && f.type?.startsWith('image/')) return f;
	return items?.[0] ?? null;
}

/** The predict box: drop zone, file picker, paste, webcam toggle, bars. */
export function PredictPanel() {
	const ready = headReady.value;
	const [over, setOver] = useState(false);
	const p = prediction.value;
	if (!ready) return <p class="muted" data-testid="predict-waiting">Train a head to try it on new images.</p>;
	return (
		<section class="predict" aria-labelledby="h-predict" data-testid="predict">
			<h4 id="h-predict">Try it on new images</h4>
			{/* A paste goes here when this zone has the focus (click it first); elsewhere on the
			    page it adds the image to a class (fine-tuning-lesson.jsx), so it stops here. */}
			<div class={`drop-zone${over ? ' is-over' : ''}`} data-testid="predict-drop" tabIndex={0}
				role="group" aria-label="Image to classify: drop, paste (Ctrl+V) or choose a file"
				onPaste={(e) => {
					const file = firstImage([...(e.clipboardData?.files ?? [])]);
					if (!file) return;
					e.preventDefault();
					e.stopPropagation();
					predictFile(file);
				}}
				onDragOver={(e) => { e.preventDefault(); setOver(true); }}
				onDragLeave={() => setOver(false)}
				onDrop={(e) => {
					e.preventDefault();
					setOver(false);
					const file = firstImage([...(e.dataTransfer?.files ?? [])]);
					if (file) predictFile(file);
				}}>
				<p>Drop an image here, click here and paste one, or{' '}
					<label class="file-button">
						choose a file
						<input type="file" accept="image/*" data-testid="predict-file" class="visually-hidden"
							onChange={(e) => { const f = e.currentTarget.files?.[0]; if (f) predictFile(f); e.currentTarget.value = ''; }} />
					</label>.
				</p>
			</div>
			{p?.pending && <p role="status">Classifying <span>{p.name}</span>…</p>}
			{p?.error && <p class="banner is-error" role="alert" data-testid="predict-error"><span>{p.name}</span>: {p.error}</p>}
			{p?.top && (
				<div data-testid="predict-result" data-top={p.top[0].index} data-logits={JSON.stringify(p.logits)}>
					<p><span class="file-name">{p.name}</span>: <strong data-testid="predict-top">{p.top[0].label}</strong> ({p.ms.toFixed(0)} ms)</p>
					<ConfidenceBars top={p.top} />
				</div>
			)}
			<WebcamPredict />
		</section>
	);
}
