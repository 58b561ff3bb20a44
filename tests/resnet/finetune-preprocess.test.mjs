// finetune-preprocess.test.mjs: js/preprocess.mjs and the Node decoder (js/imagefolder-dir.mjs)
// against Pillow 9.4 / torchvision 0.14 (gen_finetune_data.py): decoded bytes equal
// Image.open(f).convert('RGB') exactly; the tensors of the default transforms, keepWhole and a
// given RandomResizedCrop box (plus its flip) are torchvision's within 1e-6.
//   node --test tests/resnet/finetune-preprocess.test.mjs
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { loadEngine } from '../../js/engine.mjs';
import { decodeImageFile } from '../../js/imagefolder-dir.mjs';
import { cropRgb, flipTensor, prepareImage, resizeSquareNormalize, seededRandom } from '../../js/preprocess.mjs';
import { readNpy } from './fixtures.mjs';
import { dataPath, ensureFinetuneData } from './finetune-fixtures.mjs';

const TOL = 1e-6;
let manifest, eng;
before(async () => {
	manifest = ensureFinetuneData();
	eng = await loadEngine({ build: 'simd' });
}, { timeout: 300_000 });
after(() => eng?.dispose());

function maxDiff(a, b) {
	assert.equal(a.length, b.length);
	let m = 0;
	for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
	return m;
}

describe('images decoded and preprocessed as torchvision does on a PIL image', () => {
	test('every picture (RGB, RGBA, grey, palette; square and not)', async (t) => {
		for (const p of manifest.pre) {
			const img = await decodeImageFile(dataPath(p.png));
			assert.deepEqual([img.width, img.height], [p.width, p.height], p.name);
			const rgb = readNpy(dataPath('pre', `${p.name}.rgb.npy`));
			assert.ok(Buffer.from(img.rgb).equals(Buffer.from(rgb.data)), `${p.name}: decoded bytes differ from PIL's convert('RGB')`);
			const npy = (k) => readNpy(dataPath('pre', `${p.name}.${k}.npy`)).data;
			const center = prepareImage(eng, img.rgb, img.width, img.height, { channels: 3 });
			const whole = prepareImage(eng, img.rgb, img.width, img.height, { channels: 3, keepWhole: true });
			const boxed = resizeSquareNormalize(eng, cropRgb(img.rgb, img.width, 3, p.box), p.box.width, p.box.height, 3);
			const d = {
				center: maxDiff(center, npy('center')), whole: maxDiff(whole, npy('whole')),
				box: maxDiff(boxed, npy('box')), boxflip: maxDiff(flipTensor(boxed.slice()), npy('boxflip')),
			};
			t.diagnostic(`${p.name}: max |Δ| ${JSON.stringify(d)}`);
			for (const [k, v] of Object.entries(d)) assert.ok(v <= TOL, `${p.name} ${k}: max |Δ| ${v}`);
		}
	});

	test('RGBA input (a canvas\'s ImageData) gives the RGB result', async () => {
		const p = manifest.pre[0];
		const img = await decodeImageFile(dataPath(p.png));
		const rgba = new Uint8Array(img.width * img.height * 4);
		for (let i = 0; i < img.width * img.height; i++) rgba.set([...img.rgb.subarray(3 * i, 3 * i + 3), 7], 4 * i);
		for (const keepWhole of [false, true]) {
			assert.deepEqual(prepareImage(eng, rgba, img.width, img.height, { keepWhole }),
				prepareImage(eng, img.rgb, img.width, img.height, { channels: 3, keepWhole }));
		}
	});

	test('augmentation: seeded, a 224×224 tensor, differs from the centre crop and between draws', async () => {
		const p = manifest.pre[4];
		const img = await decodeImageFile(dataPath(p.png));
		const run = (seed) => { const rng = seededRandom(seed); return [0, 1].map(() => prepareImage(eng, img.rgb, img.width, img.height, { channels: 3, augment: true, rng })); };
		const [a1, a2] = run(5), [b1] = run(5);
		assert.equal(a1.length, 3 * 224 * 224);
		assert.deepEqual(a1, b1, 'the same seed gives the same crop');
		assert.ok(maxDiff(a1, a2) > 0.1, 'two draws give two crops');
		assert.ok(maxDiff(a1, prepareImage(eng, img.rgb, img.width, img.height, { channels: 3 })) > 0.1);
		assert.throws(() => prepareImage(eng, img.rgb, img.width, img.height, { channels: 3, augment: true }), /rng/);
	});

	test('a wrong byte count is refused with the sizes', () => {
		assert.throws(() => prepareImage(eng, new Uint8Array(10), 4, 4, { channels: 3 }), /4×4×3 = 48 bytes, got 10/);
	});
});
