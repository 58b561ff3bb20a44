// preprocess.mjs: a picture's pixels → the model's input, as torchvision does it on a PIL image.
// The training loop, the page's worker and `gradbox finetune` all go through prepareImage, so an
// image gives the same tensor everywhere; the generated finetune.py writes the same transforms.
//   default     T.Resize(256), T.CenterCrop(224), T.ToTensor(), T.Normalize(mean, std)
//   keepWhole   T.Resize((224, 224)) (the whole picture, squashed), T.ToTensor(), T.Normalize
//   augment     T.RandomResizedCrop(224), T.RandomHorizontalFlip(), T.ToTensor(), T.Normalize
// Resizing is Pillow's bilinear resize in the engine, byte for byte (gb_image_resize).
// Guarded by tests/resnet/finetune-preprocess.test.mjs (against torchvision, within 1e-6) and
// tests/node/preprocess.test.mjs (the crop box and the generator).
// NOTE: augmentation draws from a seeded JS generator, not from torch's: the crops are
// torchvision's algorithm but not the same crops as a PyTorch run (finetune.py says so).

export const SIZE = 224;

/** Python's round(): halves go to the even neighbour. */
export function roundHalfEven(x) {
	const f = Math.floor(x);
	const d = x - f;
	if (d > 0.5) return f + 1;
	if (d < 0.5) return f;
	return f % 2 === 0 ? f : f + 1;
}

/**
 * A seeded generator of uniform floats in [0, 1) (mulberry32), for augmentation.
 * @param {number} seed
 * @returns {() => number}
 */
export function seededRandom(seed) {
	let a = (seed >>> 0) ^ Math.imul(Math.floor(seed / 2 ** 32), 0x9e3779b9);
	return () => {
		a = (a + 0x6d2b79f5) | 0;
		let t = Math.imul(a ^ (a >>> 15), 1 | a);
		t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
		return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
	};
}

/**
 * torchvision 0.14's RandomResizedCrop.get_params(img, scale=(0.08, 1), ratio=(3/4, 4/3)): up to
 * 10 tries of a random area and log-uniform aspect ratio that fits, else the central fallback.
 * @param {number} width
 * @param {number} height
 * @param {() => number} rng uniform in [0, 1)
 * @returns {{ top: number, left: number, height: number, width: number }}
 */
export function randomResizedCropBox(width, height, rng, scale = [0.08, 1], ratio = [3 / 4, 4 / 3]) {
	const area = width * height;
	const logRatio = [Math.log(ratio[0]), Math.log(ratio[1])];
	for (let attempt = 0; attempt < 10; attempt++) {
		const targetArea = area * (scale[0] + (scale[1] - scale[0]) * rng());
		const aspect = Math.exp(logRatio[0] + (logRatio[1] - logRatio[0]) * rng());
		const w = roundHalfEven(Math.sqrt(targetArea * aspect));
		const h = roundHalfEven(Math.sqrt(targetArea / aspect));
		if (w > 0 && w <= width && h > 0 && h <= height) {
			const top = Math.floor(rng() * (height - h + 1));   // torch.randint(0, height - h + 1)
			const left = Math.floor(rng() * (width - w + 1));
			return { top, left, height: h, width: w };
		}
	}
	// Fallback to a central crop, clamped to the allowed ratios.
	const inRatio = width / height;
	let w = width, h = height;
	if (inRatio < Math.min(...ratio)) h = roundHalfEven(w / Math.min(...ratio));
	else if (inRatio > Math.max(...ratio)) w = roundHalfEven(h * Math.max(...ratio));
	return { top: Math.floor((height - h) / 2), left: Math.floor((width - w) / 2), height: h, width: w };
}

/** The box (top, left, height, width) of pixels (channels per pixel) as RGB bytes: PIL's crop. */
export function cropRgb(pixels, width, channels, box) {
	const out = new Uint8Array(box.width * box.height * 3);
	for (let y = 0; y < box.height; y++) {
		for (let x = 0; x < box.width; x++) {
			const s = ((box.top + y) * width + box.left + x) * channels;
			const d = (y * box.width + x) * 3;
			out[d] = pixels[s]; out[d + 1] = pixels[s + 1]; out[d + 2] = pixels[s + 2];
		}
	}
	return out;
}

/** T.RandomHorizontalFlip's flip of a (3, H, W) tensor, in place. */
export function flipTensor(t, size = SIZE) {
	for (let c = 0; c < 3; c++) {
		for (let y = 0; y < size; y++) {
			const row = t.subarray((c * size + y) * size, (c * size + y + 1) * size);
			row.reverse();
		}
	}
	return t;
}

/**
 * Pillow's img.resize((SIZE, SIZE), BILINEAR) of RGB(A) pixels, then ToTensor and Normalize
 * (the engine's CenterCrop of an image that is already SIZE×SIZE is just the normalisation).
 * NOTE: Pillow returns a copy when the size does not change; so does this.
 */
export function resizeSquareNormalize(engine, pixels, width, height, channels) {
	const { M } = engine;
	const rgbBytes = SIZE * SIZE * 3;
	const [resized, tensor] = [rgbBytes, 3 * SIZE * SIZE * 4].map((n) => M._malloc(n));
	try {
		if (!resized || !tensor) throw new Error('engine: out of memory');
		if (width === SIZE && height === SIZE) {
			const rgb = channels === 3 ? pixels : cropRgb(pixels, width, channels, { top: 0, left: 0, width, height });
			new Uint8Array(engine.heap(), resized, rgbBytes).set(rgb);
		} else {
			engine.withBytes(pixels, (p) => engine.check(M._gb_image_resize(p, width, height, channels, SIZE, SIZE, resized)));
		}
		engine.check(M._gb_image_center_crop_normalize(resized, SIZE, SIZE, SIZE, 0, tensor));
		return new Float32Array(engine.heap(), tensor, 3 * SIZE * SIZE).slice();
	} finally {
		if (resized) M._free(resized);
		if (tensor) M._free(tensor);
	}
}

/**
 * The model's input for one picture: Float32Array(3·224·224), (C, H, W).
 * @param {import('./engine.mjs').Engine} engine the full module (it resizes)
 * @param {Uint8Array | Uint8ClampedArray} pixels width × height × channels bytes, row by row
 * @param {number} width
 * @param {number} height
 * @param {{ channels?: 3 | 4, keepWhole?: boolean, augment?: boolean, rng?: () => number }} [opts]
 *   augment needs rng (seededRandom(seed)); keepWhole has no effect with augment (the crop
 *   is random either way)
 */
export function prepareImage(engine, pixels, width, height, { channels = 4, keepWhole = false, augment = false, rng } = {}) {
	if (pixels.length !== width * height * channels) {
		throw new Error(`expected ${width}×${height}×${channels} = ${width * height * channels} bytes, got ${pixels.length}`);
	}
	if (augment) {
		if (typeof rng !== 'function') throw new Error('augment needs a random generator (rng)');
		const box = randomResizedCropBox(width, height, rng);
		const crop = cropRgb(pixels, width, channels, box);
		const t = resizeSquareNormalize(engine, crop, box.width, box.height, 3);
		return rng() < 0.5 ? flipTensor(t) : t;   // RandomHorizontalFlip(p=0.5): flip if rand < p
	}
	if (keepWhole) return resizeSquareNormalize(engine, pixels, width, height, channels);
	return engine.preprocess(pixels, width, height, { channels, resize: 256, crop: SIZE }).tensor;
}
