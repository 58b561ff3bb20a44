// What the model sees: a photo through torchvision's preprocessing, step by
// step (Resize(256), CenterCrop(224), ToTensor, Normalize), then the ImageNet
// head's top-5 classes, before the head is replaced.
import { useEffect, useRef, useState } from 'preact/hooks';
import classes from '../../../assets/imagenet_classes.json';
import { SAMPLES, image, chooseSample, chooseFile } from './image-choice.js';
import { act, weights, phase } from './state.js';

/** Draws packed RGB bytes on a canvas. */
function RgbCanvas({ img, label }) {
	const ref = useRef(null);
	useEffect(() => {
		const c = ref.current;
		if (!c || !img) return;
		c.width = img.width;
		c.height = img.height;
		const data = new ImageData(img.width, img.height);
		for (let i = 0, j = 0; i < img.rgb.length; i += 3, j += 4) {
			data.data[j] = img.rgb[i];
			data.data[j + 1] = img.rgb[i + 1];
			data.data[j + 2] = img.rgb[i + 2];
			data.data[j + 3] = 255;
		}
		c.getContext('2d').putImageData(data, 0, 0);
	}, [img]);
	return <canvas ref={ref} class="stage-canvas" role="img" aria-label={label} />;
}

/** Sample thumbnails and "your own image". */
export function ImagePicker() {
	const current = image.value;
	return (
		<div class="image-picker">
			{SAMPLES.map((s) => (
				<button type="button" key={s.file} class={`thumb${current?.sample === s.file ? ' is-chosen' : ''}`}
					aria-pressed={current?.sample === s.file} data-testid={`sample-${s.file}`} onClick={() => chooseSample(s)}>
					<img src={s.url} alt={s.title} width="72" height="72" />
				</button>
			))}
			<label class="button">
				your own image…
				<input type="file" accept="image/*" class="visually-hidden" data-testid="image-file"
					onChange={(e) => { const f = e.currentTarget.files?.[0]; if (f) chooseFile(f); e.currentTarget.value = ''; }} />
			</label>
		</div>
	);
}

const fmt = (v) => v.toFixed(4);

export function ModelSees() {
	const [result, setResult] = useState(null);
	const [problem, setProblem] = useState(null);
	const img = image.value;
	const w = weights.value;
	// Once the weights are settled (loaded, or random after a failed download):
	// a picture classified during the download would be classified twice, and
	// would draw the random init the file replaces (engine/api: ready_model).
	const settled = phase.value === 'ready';
	useEffect(() => {
		if (!img || !settled) return;
		let live = true;
		act('classify', 'model-classify', { image: img.blob })
			.then((r) => { if (live) { setResult({ ...r, image: img, weights: w }); setProblem(null); } })
			.catch((err) => { if (live) setProblem(err.message); });
		return () => { live = false; };
	}, [img, w, settled]);
	if (!img) return null;
	return (
		<div class="sees">
			{problem && <p class="banner is-error" role="alert" data-testid="classify-problem">{img.title}: {problem}</p>}
			{result && (
				<>
					<ol class="stages">
						<li>
							<h4>the file</h4>
							<img src={img.url} alt={img.title} class="stage-canvas" />
							<p class="muted">{result.source.width} × {result.source.height}</p>
						</li>
						<li>
							<h4>Resize(256)</h4>
							<RgbCanvas img={result.resized} label="after Resize(256)" />
							<p class="muted">{result.resized.width} × {result.resized.height}: shorter side 256, bilinear with antialiasing</p>
						</li>
						<li>
							<h4>CenterCrop(224)</h4>
							<RgbCanvas img={result.cropped} label="after CenterCrop(224)" />
							<p class="muted">224 × 224 from the middle</p>
						</li>
						<li>
							<h4>ToTensor, Normalize</h4>
							<table class="numbers" data-testid="normalize-stats">
								<thead><tr><th>channel</th><th>mean</th><th>std</th></tr></thead>
								<tbody>
									{['R', 'G', 'B'].map((c, i) => (
										<tr key={c}><td>{c}</td><td>{fmt(result.stats[i].mean)}</td><td>{fmt(result.stats[i].std)}</td></tr>
									))}
								</tbody>
							</table>
							<p class="muted">x / 255, then (x − mean) / std with ImageNet’s mean (0.485, 0.456, 0.406) and std (0.229, 0.224, 0.225)</p>
							<p class="muted"><code data-testid="tensor-sample">x[0, 0, 0, :4] = [{result.sample.slice(0, 4).map(fmt).join(', ')}]</code></p>
						</li>
					</ol>
					<h4>top-5 ImageNet classes {w?.source === 'random' && <span class="muted">(random weights: meaningless)</span>}</h4>
					<ol class="top5" data-testid="top5" data-sample={result.image.sample ?? ''} data-weights={result.weights?.sha256 ?? result.weights?.source}>
						{result.top.map((t) => (
							<li key={t.index} data-index={t.index}>
								<span class="top5-label">{classes[t.index]} <span class="muted">({t.index})</span></span>
								<span class="bar" style={{ '--p': t.p }} aria-hidden="true" />
								<span class="top5-p" data-testid="top5-p" data-p={t.p}>{(100 * t.p).toFixed(2)} %</span>
							</li>
						))}
					</ol>
					<p class="muted" data-testid="classify-time" data-forward-ms={result.forwardMs}>forward: {result.forwardMs.toFixed(1)} ms on the engine ({img.title})</p>
				</>
			)}
		</div>
	);
}
