// image-header.js: what a file is and how many pixels it holds, read from its first bytes, before
// anything decodes it. The studio's intake (intake.js) refuses a file that is not an image, and
// one whose pixel count is over the cap, without ever handing it to the decoder: a 50,000 x
// 50,000 PNG header costs 10 GB of RGBA if decoded. Pure (no DOM): tests/node/image-header.test.mjs.

/** Decoded RGBA of a larger picture would take > 160 MB (part 2's decode uses the same cap). */
export const PIXEL_CAP = 40e6;

/** How many bytes `sniffImage` needs to see (JPEG's SOF may come after large EXIF/ICC segments). */
export const HEADER_BYTES = 256 * 1024;

const ascii = (b, at, n) => String.fromCharCode(...b.subarray(at, at + n));
const u16be = (b, at) => (b[at] << 8) | b[at + 1];
const u32be = (b, at) => ((b[at] << 24) >>> 0) + (b[at + 1] << 16) + (b[at + 2] << 8) + b[at + 3];
const u16le = (b, at) => b[at] | (b[at + 1] << 8);
const u24le = (b, at) => b[at] | (b[at + 1] << 8) | (b[at + 2] << 16);
const i32le = (b, at) => b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24);

/** PNG: signature, then IHDR (width, height as big-endian u32). */
function png(b) {
	if (b.length < 24 || ascii(b, 12, 4) !== 'IHDR') return { format: 'png', error: 'the PNG has no IHDR header' };
	return { format: 'png', width: u32be(b, 16), height: u32be(b, 20) };
}

/** JPEG: walk the marker segments to the first SOFn (C0-CF except C4 DHT, C8 JPG, CC DAC). */
function jpeg(b) {
	let at = 2;
	while (at + 4 <= b.length) {
		if (b[at] !== 0xff) return { format: 'jpeg', error: 'the JPEG\'s markers are corrupt' };
		const m = b[at + 1];
		if (m === 0xff) { at += 1; continue; }                 // fill byte
		if (m === 0xd8 || m === 0x01 || (m >= 0xd0 && m <= 0xd7)) { at += 2; continue; }
		if (m === 0xd9 || m === 0xda) break;                   // end of image / start of scan before any frame
		const len = u16be(b, at + 2);
		if (len < 2) return { format: 'jpeg', error: 'the JPEG\'s markers are corrupt' };
		if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) {
			if (at + 9 > b.length) break;
			return { format: 'jpeg', height: u16be(b, at + 5), width: u16be(b, at + 7) };
		}
		at += 2 + len;
	}
	return { format: 'jpeg', error: at + 4 > b.length ? 'the JPEG ends before its frame header (truncated?)' : 'the JPEG has no frame header' };
}

/** GIF: logical screen size (little-endian u16) right after the signature. */
function gif(b) {
	if (b.length < 10) return { format: 'gif', error: 'the GIF ends inside its header' };
	return { format: 'gif', width: u16le(b, 6), height: u16le(b, 8) };
}

/** WebP: RIFF container, then a VP8 (lossy), VP8L (lossless) or VP8X (extended) chunk. */
function webp(b) {
	const kind = ascii(b, 12, 4);
	if (kind === 'VP8 ' && b.length >= 30) return { format: 'webp', width: u16le(b, 26) & 0x3fff, height: u16le(b, 28) & 0x3fff };
	if (kind === 'VP8L' && b.length >= 25) {
		const bits = (b[21] | (b[22] << 8) | (b[23] << 16) | (b[24] << 24)) >>> 0;
		return { format: 'webp', width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
	}
	if (kind === 'VP8X' && b.length >= 30) return { format: 'webp', width: u24le(b, 24) + 1, height: u24le(b, 27) + 1 };
	return { format: 'webp', error: 'the WebP has no VP8, VP8L or VP8X header' };
}

/** BMP: BITMAPINFOHEADER (or the old 12-byte core header); a negative height means top-down. */
function bmp(b) {
	if (b.length < 26) return { format: 'bmp', error: 'the BMP ends inside its header' };
	const size = i32le(b, 14) >>> 0;
	if (size === 12) return { format: 'bmp', width: u16le(b, 18), height: u16le(b, 20) };
	return { format: 'bmp', width: Math.abs(i32le(b, 18)), height: Math.abs(i32le(b, 22)) };
}

/** ISO-BMFF (AVIF, HEIC): an `ftyp` box whose brands name an image format; size is in `ispe`. */
function isoImage(b) {
	const brands = [];
	const boxLen = u32be(b, 0);
	for (let at = 8; at + 4 <= Math.min(boxLen, b.length); at += 4) if (at !== 12) brands.push(ascii(b, at, 4));
	const format = brands.some((x) => x === 'avif' || x === 'avis') ? 'avif'
		: brands.some((x) => ['heic', 'heix', 'mif1', 'msf1', 'heim', 'heis'].includes(x)) ? 'heic' : null;
	if (!format) return null;
	for (let at = 0; at + 20 <= b.length; at++) {
		if (b[at + 4] === 0x69 && ascii(b, at + 4, 4) === 'ispe') return { format, width: u32be(b, at + 12), height: u32be(b, at + 16) };
	}
	return { format };   // size unknown from the header: the decoder's own limits apply
}

/**
 * What an image file is, from its first bytes (at least HEADER_BYTES of them, or the whole file).
 * @param {Uint8Array} b
 * @returns {{ format: string, width?: number, height?: number, error?: string } | null}
 *   null: not an image format the studio knows; `error`: an image whose header is broken;
 *   width and height absent: a format whose size is not in a fixed place (the decoder checks it)
 */
export function sniffImage(b) {
	if (b.length >= 8 && b[0] === 0x89 && ascii(b, 1, 3) === 'PNG' && b[4] === 0x0d && b[5] === 0x0a) return png(b);
	if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return jpeg(b);
	if (b.length >= 6 && (ascii(b, 0, 6) === 'GIF87a' || ascii(b, 0, 6) === 'GIF89a')) return gif(b);
	if (b.length >= 16 && ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WEBP') return webp(b);
	if (b.length >= 18 && ascii(b, 0, 2) === 'BM') return bmp(b);
	if (b.length >= 16 && ascii(b, 4, 4) === 'ftyp') return isoImage(b);
	if (b.length >= 4 && ((b[0] === 0x49 && b[1] === 0x49 && b[2] === 0x2a && b[3] === 0) || (b[0] === 0x4d && b[1] === 0x4d && b[2] === 0 && b[3] === 0x2a))) return { format: 'tiff' };
	if (b.length >= 4 && b[0] === 0 && b[1] === 0 && (b[2] === 1 || b[2] === 2) && b[3] === 0) return { format: 'ico' };
	return null;
}

/**
 * Why a file must be refused before decoding, or null if it may go to the decoder.
 * @param {Uint8Array} head the file's first bytes
 * @param {number} size the file's size in bytes
 * @param {number} [cap] pixel cap
 * @returns {string | null} a reason in plain words
 */
export function headerProblem(head, size, cap = PIXEL_CAP) {
	if (size === 0) return 'the file is empty (0 bytes)';
	const info = sniffImage(head);
	if (!info) return 'not an image (its first bytes are not PNG, JPEG, GIF, WebP, BMP, AVIF or HEIC)';
	if (info.error) return info.error;
	if (info.width === undefined) return null;
	if (info.width === 0 || info.height === 0) return `the ${info.format.toUpperCase()} header says ${info.width}×${info.height} pixels`;
	if (info.width * info.height > cap) {
		return `${info.width.toLocaleString('en')}×${info.height.toLocaleString('en')} pixels is over the limit of ${cap / 1e6} megapixels (refused before decoding)`;
	}
	return null;
}

/** Whether `marker` (bytes) occurs in the last `within` bytes of `b`. */
function endsWithin(b, marker, within) {
	const from = Math.max(0, b.length - within);
	outer: for (let i = b.length - marker.length; i >= from; i--) {
		for (let k = 0; k < marker.length; k++) if (b[i + k] !== marker[k]) continue outer;
		return true;
	}
	return false;
}

/**
 * Whether a whole file ends as its format requires: torchvision's PIL raises "image file is
 * truncated" without them (so would the exported dataset in PyTorch), and the studio says so
 * plainly (a JPEG ends with its EOI marker FF D9, a PNG with its IEND chunk, a GIF with 3B;
 * trailing bytes after them are tolerated, as both decoders do).
 * @param {Uint8Array} b the whole file
 * @param {string} format from sniffImage
 * @returns {string | null}
 */
export function trailerProblem(b, format) {
	if (format === 'jpeg' && !endsWithin(b, [0xff, 0xd9], 4096)) return 'the JPEG is truncated (it has no end-of-image marker)';
	if (format === 'png' && !endsWithin(b, [0x49, 0x45, 0x4e, 0x44], 4096)) return 'the PNG is truncated (it has no IEND chunk)';
	if (format === 'gif' && !endsWithin(b, [0x3b], 4096)) return 'the GIF is truncated (it has no trailer)';
	return null;
}
