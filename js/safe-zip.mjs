// safe-zip.mjs: zip files in and out over fflate, reading as hostile input. readZip walks the
// central directory itself so that everything is checked before a byte is inflated: entry count,
// names (no `..`, no absolute paths, no backslashes, no duplicates), declared sizes against the
// caps; then each entry is inflated in small pieces, counting, so a zip bomb that lies about its
// size stops at the cap; stored entries and CRC-32 are checked too. Each refusal is a ZipError
// with a sentence for the learner. Guarded by tests/node/safe-zip.test.mjs.
import { zipSync, Inflate } from 'fflate';

/** Caps used when `readZip` is given none. */
export const DEFAULT_LIMITS = Object.freeze({
	maxEntries: 20_000,
	maxEntryBytes: 256 * 1024 * 1024,
	maxTotalBytes: 2 * 1024 * 1024 * 1024,
});

/** Why a zip was refused (`message` is for the learner). */
export class ZipError extends Error {
	constructor(message) {
		super(message);
		this.name = 'ZipError';
	}
}

/**
 * Writes a zip. @param {Iterable<[string, Uint8Array]> | Record<string, Uint8Array>} entries
 * names with `/` for folders; entries whose name ends in .json/.py/.txt/.csv are deflated, the
 * rest (images, weights) stored as they are.
 * @returns {Uint8Array}
 */
export function writeZip(entries) {
	const list = Symbol.iterator in Object(entries) ? [...entries] : Object.entries(entries);
	const files = Object.create(null);
	for (const [name, data] of list) {
		checkName(name);
		if (files[name]) throw new ZipError(`the entry ${JSON.stringify(name)} appears twice`);
		files[name] = [data, { level: /\.(json|py|txt|csv|md)$/i.test(name) ? 6 : 0, mtime: new Date('2026-01-01T00:00:00Z') }];
	}
	return zipSync(files);
}

/** Throws unless `name` is a plain relative path inside the archive. */
export function checkName(name) {
	const bad = (why) => { throw new ZipError(`the entry name ${JSON.stringify(name)} is refused: ${why}`); };
	if (typeof name !== 'string' || !name.length || name.length > 1024) bad('empty or too long');
	if (name.includes('\\')) bad('it contains a backslash');
	if (name.startsWith('/') || /^[a-zA-Z]:/.test(name)) bad('it is an absolute path');
	if (name.split('/').some((part) => part === '..' || part === '.')) bad('it contains a `..` or `.` part');
	// eslint-disable-next-line no-control-regex
	if (/[\u0000-\u001f]/.test(name)) bad('it contains a control character');
}

const CRC_TABLE = (() => {
	const t = new Uint32Array(256);
	for (let n = 0; n < 256; n++) {
		let c = n;
		for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
		t[n] = c >>> 0;
	}
	return t;
})();

/** CRC-32 (the zip one: reflected, polynomial 0xEDB88320). */
export function crc32(b) {
	let c = 0xffffffff;
	for (let i = 0; i < b.length; i++) c = CRC_TABLE[(c ^ b[i]) & 0xff] ^ (c >>> 8);
	return (c ^ 0xffffffff) >>> 0;
}

/** The central directory: [{ name, method, flags, crc, csize, usize, offset }]. */
function centralDirectory(b, limits) {
	const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
	let eocd = -1;
	for (let i = b.length - 22; i >= Math.max(0, b.length - 22 - 65535); i--) {
		if (dv.getUint32(i, true) === 0x06054b50) { eocd = i; break; }
	}
	if (eocd < 0) throw new ZipError('this is not a zip file (no end-of-archive record)');
	const count = dv.getUint16(eocd + 10, true);
	const size = dv.getUint32(eocd + 12, true);
	const start = dv.getUint32(eocd + 16, true);
	if (count === 0xffff || start === 0xffffffff) throw new ZipError('zip64 archives are not supported');
	if (count > limits.maxEntries) throw new ZipError(`the zip has ${count} entries; at most ${limits.maxEntries} are allowed`);
	if (start + size > eocd) throw new ZipError('the zip is corrupt (its directory points outside the file)');
	const out = [];
	let at = start;
	const names = new Set();
	let total = 0;
	const decoder = new TextDecoder('utf-8', { fatal: true });
	for (let i = 0; i < count; i++) {
		if (at + 46 > eocd || dv.getUint32(at, true) !== 0x02014b50) throw new ZipError('the zip is corrupt (a directory entry is broken)');
		const e = {
			flags: dv.getUint16(at + 8, true), method: dv.getUint16(at + 10, true), crc: dv.getUint32(at + 16, true),
			csize: dv.getUint32(at + 20, true), usize: dv.getUint32(at + 24, true), offset: dv.getUint32(at + 42, true),
		};
		const nlen = dv.getUint16(at + 28, true);
		const skip = nlen + dv.getUint16(at + 30, true) + dv.getUint16(at + 32, true);
		if (at + 46 + skip > eocd) throw new ZipError('the zip is corrupt (a directory entry is broken)');
		try { e.name = decoder.decode(b.subarray(at + 46, at + 46 + nlen)); } catch { throw new ZipError('the zip has an entry whose name is not UTF-8'); }
		at += 46 + skip;
		checkName(e.name);
		if (names.has(e.name)) throw new ZipError(`the entry ${JSON.stringify(e.name)} appears twice`);
		names.add(e.name);
		if (e.flags & 1) throw new ZipError(`the entry ${JSON.stringify(e.name)} is encrypted`);
		if (e.method !== 0 && e.method !== 8) throw new ZipError(`the entry ${JSON.stringify(e.name)} uses compression method ${e.method} (only stored and deflate are read)`);
		if (e.usize > limits.maxEntryBytes) throw new ZipError(`the entry ${JSON.stringify(e.name)} would be ${e.usize} bytes; the limit is ${limits.maxEntryBytes}`);
		total += e.usize;
		if (total > limits.maxTotalBytes) throw new ZipError(`the zip would unpack to more than ${limits.maxTotalBytes} bytes`);
		out.push(e);
	}
	return out;
}

/** Inflates `data` in 16 KB pieces, refusing as soon as the output passes `cap` bytes. */
function inflateCapped(data, cap, name) {
	const parts = [];
	let n = 0;
	const inf = new Inflate((chunk) => {
		n += chunk.length;
		if (n > cap) throw new ZipError(`the entry ${JSON.stringify(name)} unpacks to more than it declares (${cap} bytes)`);
		parts.push(chunk);
	});
	try {
		for (let i = 0; i < data.length; i += 16384) inf.push(data.subarray(i, i + 16384), i + 16384 >= data.length);
		if (!data.length) inf.push(new Uint8Array(0), true);
	} catch (err) {
		if (err instanceof ZipError) throw err;
		throw new ZipError(`the entry ${JSON.stringify(name)} is corrupt (${err.message})`);
	}
	const out = new Uint8Array(n);
	let at = 0;
	for (const p of parts) { out.set(p, at); at += p.length; }
	return out;
}

/**
 * Reads a zip, checking everything first (see the file comment).
 * @param {Uint8Array} bytes
 * @param {Partial<typeof DEFAULT_LIMITS>} [limits]
 * @returns {Map<string, Uint8Array>} entry name → bytes (folders, names ending in `/`, left out)
 */
export function readZip(bytes, limits = {}) {
	const lim = { ...DEFAULT_LIMITS, ...limits };
	if (!(bytes instanceof Uint8Array) || bytes.length < 22) throw new ZipError('this is not a zip file (too short)');
	const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
	const out = new Map();
	for (const e of centralDirectory(bytes, lim)) {
		if (e.offset + 30 > bytes.length || dv.getUint32(e.offset, true) !== 0x04034b50) throw new ZipError(`the zip is corrupt (the entry ${JSON.stringify(e.name)} is not where the directory says)`);
		const from = e.offset + 30 + dv.getUint16(e.offset + 26, true) + dv.getUint16(e.offset + 28, true);
		if (from + e.csize > bytes.length) throw new ZipError(`the zip is truncated (the entry ${JSON.stringify(e.name)} runs past its end)`);
		if (e.name.endsWith('/')) continue;
		const raw = bytes.subarray(from, from + e.csize);
		let data;
		if (e.method === 0) {
			if (e.csize !== e.usize) throw new ZipError(`the zip is corrupt (the stored entry ${JSON.stringify(e.name)} has two sizes)`);
			data = raw.slice();
		} else {
			data = inflateCapped(raw, e.usize, e.name);
		}
		if (data.length !== e.usize) throw new ZipError(`the zip is corrupt (the entry ${JSON.stringify(e.name)} is ${data.length} bytes, not ${e.usize})`);
		if (crc32(data) !== e.crc) throw new ZipError(`the zip is corrupt (the entry ${JSON.stringify(e.name)} fails its checksum)`);
		out.set(e.name, data);
	}
	return out;
}
