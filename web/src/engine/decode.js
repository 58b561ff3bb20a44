// Image decoding in the engine worker, shared by part 2 (model-session.js) and the studio
// (studio-session.js): a Blob or an ImageBitmap in, RGBA bytes exactly as stored out (no colour
// conversion, no premultiplied alpha), so the engine sees the pixels PIL would read.

/** Decoded RGBA of a larger picture would take > 160 MB: refused with the size in the message. */
export const PIXEL_CAP = 40e6;

/**
 * Decodes an image (a Blob, or an ImageBitmap such as a webcam frame, which is closed after use)
 * to `{ rgba, width, height }`. Throws a sentence the page shows as is.
 * @param {Blob | ImageBitmap} image
 */
export async function decode(image) {
	let bitmap = image;
	if (!(typeof ImageBitmap !== 'undefined' && image instanceof ImageBitmap)) {
		try {
			bitmap = await createImageBitmap(image, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
		} catch {
			throw new Error('this file is not an image the browser can decode (or it is damaged)');
		}
	}
	const { width, height } = bitmap;
	if (width * height > PIXEL_CAP) {
		bitmap.close();
		throw new Error(`this image has ${(width * height / 1e6).toFixed(0)} megapixels; the limit here is ${PIXEL_CAP / 1e6}`);
	}
	const canvas = new OffscreenCanvas(width, height);
	const ctx = canvas.getContext('2d', { willReadFrequently: true });
	ctx.drawImage(bitmap, 0, 0);
	bitmap.close();
	return { rgba: ctx.getImageData(0, 0, width, height).data, width, height };
}
