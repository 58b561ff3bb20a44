// Take the work to PyTorch: the trained head (fc.weight, fc.bias) or the whole model as
// .safetensors or .pth (both load with load_state_dict(strict=True)), finetune.py that reproduces
// the session, and the images as an ImageFolder zip in the current split. Everything is made on
// this device; nothing is uploaded.
// Guarded by tests/e2e/studio-train.spec.mjs (exports loaded by PyTorch; finetune.py on the zip).
import { useState } from 'preact/hooks';
import { finetuneScript } from '../../../js/finetune-script.mjs';
import { datasetZip } from '../../../js/imagefolder.mjs';
import { project, images, imageBlob, currentSplit, classIndex } from './state.js';
import { exportWeights, headReady, latestRun } from './training-state.js';
import { exportName } from './run-record.js';

/** Saves bytes as a download named `name`. */
export function download(bytes, name, type = 'application/octet-stream') {
	const url = URL.createObjectURL(new Blob([bytes], { type }));
	const a = document.createElement('a');
	a.href = url;
	a.download = name;
	document.body.append(a);
	a.click();
	a.remove();
	setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

const WEIGHTS = [
	['head', 'safetensors', 'head (fc) .safetensors'],
	['head', 'pth', 'head (fc) .pth'],
	['model', 'safetensors', 'whole model .safetensors'],
	['model', 'pth', 'whole model .pth'],
];

/** The script that reproduces the session in PyTorch, for these settings and classes. */
function script(settings, labels) {
	return finetuneScript({ settings, labels });
}

/** The project's images as an ImageFolder zip (train/ and val/ as currently split), finetune.py inside. */
async function projectZip(settings) {
	const { train, val } = currentSplit();
	const labels = project.value.classes.map((k) => k.label);
	const items = async (list) => {
		const out = [];
		for (const meta of list) {
			const blob = await imageBlob(meta.id);
			out.push({ label: classIndex(meta.classId), name: meta.name, bytes: new Uint8Array(await blob.arrayBuffer()) });
		}
		return out;
	};
	return datasetZip({ labels, train: await items(train), val: await items(val), script: script(settings, labels) });
}

/** The export buttons; weights need a trained head, the script and the data do not. */
export function ExportPanel() {
	const [busy, setBusy] = useState(null);
	const [problem, setProblem] = useState(null);
	const p = project.value;
	const ready = headReady.value;
	const run = latestRun();
	const act = async (what, fn) => {
		setBusy(what);
		setProblem(null);
		try {
			await fn();
		} catch (err) {
			setProblem(`${what}: ${err.message}`);
		} finally {
			setBusy(null);
		}
	};
	return (
		<section class="export" aria-labelledby="h-export" data-testid="export">
			<h4 id="h-export">Take it to PyTorch</h4>
			<p class="muted">Everything below is made in this tab: your images never leave this device.</p>
			<div class="buttons" role="group" aria-label="export weights">
				{WEIGHTS.map(([what, format, label]) => (
					<button key={`${what}-${format}`} type="button" class="chip" data-testid={`export-${what}-${format}`} disabled={!ready || busy}
						onClick={() => act(label, async () => download(await exportWeights(what, format), exportName(p.name, what, format)))}>
						{label}
					</button>
				))}
			</div>
			{!ready && <p class="muted">Train a head to export its weights.</p>}
			<div class="buttons" role="group" aria-label="export script and data">
				<button type="button" class="chip" data-testid="export-script" disabled={!!busy || images.value.length === 0}
					onClick={() => act('finetune.py', async () => {
						const text = script(run?.settings ?? p.settings, p.classes.map((k) => k.label));
						download(new TextEncoder().encode(text), 'finetune.py', 'text/x-python');
					})}>
					finetune.py
				</button>
				<button type="button" class="chip" data-testid="export-dataset" disabled={!!busy || images.value.length === 0}
					onClick={() => act('dataset zip', async () => download(await projectZip(run?.settings ?? p.settings), exportName(p.name, 'imagefolder', 'zip'), 'application/zip'))}>
					dataset (ImageFolder .zip)
				</button>
			</div>
			{busy && <p role="status">Preparing {busy}…</p>}
			{problem && <p class="banner is-error" role="alert" data-testid="export-problem">{problem}</p>}
		</section>
	);
}
