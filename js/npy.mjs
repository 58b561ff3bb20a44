// npy.mjs: NumPy's .npy format (version 1.0-3.0), float32 little-endian only,
// C order: what `np.save(f, x.astype(np.float32))` writes.

/** Parses .npy bytes into { shape, data: Float32Array }; throws a readable error. */
export function readNpy(bytes) {
	const u8 = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
	const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
	if (u8.length < 10 || magic.some((b, i) => u8[i] !== b)) throw new Error('not a .npy file (bad magic)');
	const major = u8[6];
	const dv = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
	const headerLen = major === 1 ? dv.getUint16(8, true) : dv.getUint32(8, true);
	const start = (major === 1 ? 10 : 12) + headerLen;
	if (start > u8.length) throw new Error('.npy: truncated header');
	const header = new TextDecoder().decode(u8.subarray(major === 1 ? 10 : 12, start));
	const descr = /'descr':\s*'([^']*)'/.exec(header)?.[1];
	const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
	const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
	if (descr !== '<f4') throw new Error(`.npy: need float32 ('<f4'), got '${descr}'`);
	if (fortran !== 'False') throw new Error('.npy: Fortran order is not supported');
	if (shapeText === undefined) throw new Error('.npy: no shape in the header');
	const shape = shapeText.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
	const n = shape.reduce((p, d) => p * d, 1);
	if (!shape.every((d) => Number.isInteger(d) && d >= 0)) throw new Error('.npy: bad shape');
	if (u8.length - start < n * 4) throw new Error(`.npy: ${n} floats announced, ${(u8.length - start) >> 2} present`);
	const data = new Float32Array(n);
	new Uint8Array(data.buffer).set(u8.subarray(start, start + n * 4));
	return { shape, data };
}

/** .npy bytes of a float32 array with the given shape. */
export function writeNpy(data, shape) {
	const dims = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
	let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${dims}), }`;
	const pad = 64 - ((10 + header.length + 1) % 64);
	header += ' '.repeat(pad === 64 ? 0 : pad) + '\n';
	const out = new Uint8Array(10 + header.length + data.length * 4);
	out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
	new DataView(out.buffer).setUint16(8, header.length, true);
	out.set(new TextEncoder().encode(header), 10);
	out.set(new Uint8Array(Float32Array.from(data).buffer), 10 + header.length);
	return out;
}
