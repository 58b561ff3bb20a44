// Where the weights come from: a URL (the hub by default, cached), a file the
// learner drops or picks, or seeded random weights when neither works.
import { useState } from 'preact/hooks';
import {
	progress, weights, fallbackReason, weightsProblem, busy, phase,
	initialWeightsUrl, loadFromUrl, loadFromFile, loadRandom, cancelDownload, forgetCache,
} from './state.js';

const MB = 1024 * 1024;
const mb = (n) => `${(n / MB).toFixed(1)} MB`;

function Progress() {
	const p = progress.value;
	if (!p) return null;
	const pct = p.total ? Math.round((100 * p.loaded) / p.total) : null;
	return (
		<div class="download" data-testid="weights-progress">
			<progress max={p.total ?? undefined} value={p.total ? p.loaded : undefined} aria-label="downloading the weights" />
			<span class="download-text" role="status">
				{p.total ? `${mb(p.loaded)} of ${mb(p.total)} (${pct} %)` : `${mb(p.loaded)}`} · {mb(p.bytesPerSecond)}/s
			</span>
			<button type="button" class="link-button" data-testid="weights-cancel" onClick={cancelDownload}>
				Cancel
			</button>
		</div>
	);
}

function WeightsFacts() {
	const w = weights.value;
	if (!w) return null;
	if (w.source === 'random') {
		return (
			<p class="banner is-warning" role="status" data-testid="weights-random-banner">
				<strong>The backbone is untrained:</strong> these are random weights (torchvision’s initialisation after{' '}
				<code>torch.manual_seed({w.seed})</code>){fallbackReason.value ? `, because ${fallbackReason.value}` : ''}. Every
				cell still runs; the classes it predicts are meaningless until you load real weights.
			</p>
		);
	}
	const from = { network: 'downloaded from', cache: 'from this browser’s cache (no download), first fetched from', file: 'from the file' }[w.source];
	return (
		<dl class="facts" data-testid="weights-facts">
			<dt>source</dt>
			<dd data-testid="weights-source" data-source={w.source}>
				{from} <code class="break">{w.url ?? w.name}</code>
			</dd>
			<dt>SHA-256</dt>
			<dd><code class="break" data-testid="weights-sha256">{w.sha256}</code></dd>
			<dt>size</dt>
			<dd data-testid="weights-size">{w.bytes.toLocaleString('en-US')} bytes ({mb(w.bytes)})</dd>
			<dt>tensors</dt>
			<dd data-testid="weights-keys">{w.keys} keys, {w.format === 'pth' ? 'PyTorch .pth' : 'safetensors'}</dd>
			<dt>load_state_dict</dt>
			<dd><code data-testid="weights-report">{w.report}</code></dd>
			{w.cacheProblem && (<><dt>cache</dt><dd class="muted">{w.cacheProblem}</dd></>)}
			{(w.source === 'network' || w.source === 'cache') && !w.cacheProblem && (
				<>
					<dt>cache</dt>
					<dd>
						{w.forgotten ? 'forgotten: the next visit downloads the file again' : 'kept in this browser for the next visit '}
						{!w.forgotten && <button type="button" class="link-button" data-testid="weights-forget" onClick={forgetCache}>forget it</button>}
					</dd>
				</>
			)}
		</dl>
	);
}

/** The weights: URL, file, random; with what was loaded and any refusal. */
export function WeightsPanel() {
	const [url, setUrl] = useState(initialWeightsUrl);
	const [dragging, setDragging] = useState(false);
	const downloading = !!progress.value;
	const take = (files) => {
		const file = files?.[0];
		if (file) loadFromFile(file);
	};
	const problem = weightsProblem.value;
	return (
		<div class="weights-panel" aria-busy={downloading || phase.value === 'starting'}>
			<form class="weights-url" onSubmit={(e) => { e.preventDefault(); loadFromUrl(url.trim()); }}>
				<label for="weights-url">
					<code>ResNet18_Weights.DEFAULT</code> is torchvision’s ImageNet file; here it is fetched from
				</label>
				<div class="weights-url-row">
					<input id="weights-url" type="url" value={url} spellcheck={false} data-testid="weights-url"
						onInput={(e) => setUrl(e.currentTarget.value)} />
					<button type="submit" class="button" disabled={downloading || busy.value} data-testid="weights-download">Load</button>
				</div>
			</form>
			<Progress />
			<div
				class={`dropzone${dragging ? ' is-dragging' : ''}`}
				onDragOver={(e) => { e.preventDefault(); setDragging(true); }}
				onDragLeave={() => setDragging(false)}
				onDrop={(e) => { e.preventDefault(); setDragging(false); take(e.dataTransfer?.files); }}
			>
				<span>Or drop a <code>.pth</code> or <code>.safetensors</code> state_dict here, or</span>{' '}
				<label class="button">
					choose a file
					<input type="file" accept=".pth,.pt,.safetensors,application/octet-stream" class="visually-hidden"
						data-testid="weights-file" onChange={(e) => { take(e.currentTarget.files); e.currentTarget.value = ''; }} />
				</label>{' '}
				<button type="button" class="link-button" data-testid="weights-random" onClick={() => loadRandom(0)}>use random weights</button>
			</div>
			{problem && (
				<div class="cell-output is-error" role="alert" data-testid="weights-problem">
					<pre>{`${problem.name} was not loaded; the model that was loaded is still in place.\n\n${problem.message}`}</pre>
				</div>
			)}
			<WeightsFacts />
		</div>
	);
}
