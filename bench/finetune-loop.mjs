// finetune-loop.mjs: the fine-tuning loop's speed (js/finetune.mjs on the mt build), the figures
// of issue 17's bench table, in Node (the page's worker runs the same code):
//   features     ms per image to compute the 512-d features (batches of 8, preprocessing excluded)
//   head epoch   one epoch of headStep on 1,000 cached features (10 classes, batch 16)
//   train click  10 classes × 20 pictures (320×240): preprocessing, features, 5 epochs, validation
// Weights: torchvision's seeded random init (speed does not depend on the values).
//   node bench/finetune-loop.mjs [--threads 1,2] [--json]
import { loadEngine } from '../js/engine.mjs';
import { checkSettings, splitStratified } from '../js/finetune-settings.mjs';
import { prepareModel, train } from '../js/finetune.mjs';
import { prepareImage } from '../js/preprocess.mjs';

const arg = (name, dflt) => {
	const i = process.argv.indexOf(`--${name}`);
	return i > 0 ? process.argv[i + 1] : dflt;
};
const json = process.argv.includes('--json');
const rows = [];
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** A 320×240 RGB picture: class-coloured noise. */
function picture(c, i) {
	const w = 320, h = 240, rgb = new Uint8Array(w * h * 3);
	let a = c * 7919 + i * 104729 + 1;
	for (let k = 0; k < rgb.length; k++) {
		a = (a * 48271) % 2147483647;
		rgb[k] = (a & 127) + (k % 3 === c % 3 ? 100 : 0);
	}
	return { rgb, w, h };
}

for (const threads of arg('threads', '1,2').split(',').map(Number)) {
	const eng = await loadEngine({ build: 'mt', threads });
	const model = eng.model(1000, 0);
	const x = new Float32Array(8 * 3 * 224 * 224).map((_, i) => Math.sin(i * 1e-3));
	model.features(x, [8, 3, 224, 224]);   // warm-up
	const tf = [];
	for (let r = 0; r < 3; r++) {
		const t0 = performance.now();
		model.features(x, [8, 3, 224, 224]);
		tf.push((performance.now() - t0) / 8);
	}
	rows.push({ what: 'features (ms/image, batch 8)', threads, ms: median(tf), target: 30 });

	// head epochs on 1,000 cached features
	const s = checkSettings({ epochs: 6, batchSize: 16 });
	prepareModel(model, s, 10);
	const features = new Map();
	const items = Array.from({ length: 1000 }, (_, i) => {
		features.set(`f${i}`, Float32Array.from({ length: 512 }, (_, j) => Math.abs(Math.sin(i * 31 + j)) + (j % 10 === i % 10 ? 1 : 0)));
		return { label: i % 10, featureKey: `f${i}`, input: async () => { throw new Error('cached'); } };
	}).sort((a, b) => a.label - b.label);
	const r = await train({ engine: eng, model, settings: s, numClasses: 10, train: items, features });
	rows.push({ what: 'head epoch, 1,000 cached images (ms)', threads, ms: median(r.history.slice(1).map((h) => h.ms)), target: 5 });

	// the Train click: 10 classes × 20 pictures, default settings (5 epochs), from pixels
	const pics = [];
	for (let c = 0; c < 10; c++) for (let i = 0; i < 20; i++) pics.push({ label: c, ...picture(c, i) });
	const t0 = performance.now();
	const d = checkSettings({});
	prepareModel(model, d, 10);
	const split = splitStratified(pics.map((p) => p.label), d.valFraction, d.seed);
	const item = (p, i) => ({ label: p.label, featureKey: `p${i}`, input: async () => prepareImage(eng, p.rgb, p.w, p.h, { channels: 3 }) });
	const all = pics.map(item);
	const run = await train({ engine: eng, model, settings: d, numClasses: 10, train: split.train.map((i) => all[i]), val: split.val.map((i) => all[i]), features: new Map() });
	rows.push({ what: 'Train click, 10 × 20 pictures, 5 epochs (ms)', threads, ms: performance.now() - t0, target: 8000, status: run.status });
	model.dispose();
	eng.dispose();
}

if (json) for (const r of rows) process.stdout.write(`${JSON.stringify(r)}\n`);
else {
	process.stdout.write('| what | threads | ms | target |\n|---|---|---|---|\n');
	for (const r of rows) process.stdout.write(`| ${r.what} | ${r.threads} | ${r.ms.toFixed(r.ms < 10 ? 2 : 0)} | ≤ ${r.target} |\n`);
}
