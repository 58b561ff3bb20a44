// hostile-zip.mjs: a zip writer for tests that writes whatever it is told (any name, lying sizes,
// wrong CRC, duplicate entries), to build the hostile archives the readers must refuse.
import { deflateRawSync } from 'node:zlib';
import { crc32 } from '../../js/safe-zip.mjs';

/**
 * @param {{ name: string, data: Uint8Array, deflate?: boolean, usize?: number, csize?: number,
 *   crc?: number, flags?: number, method?: number }[]} entries overrides lie about the entry
 * @returns {Uint8Array}
 */
export function craftZip(entries) {
	const locals = [];
	const centrals = [];
	let offset = 0;
	for (const e of entries) {
		const name = Buffer.from(e.name, 'utf8');
		const body = e.deflate ? deflateRawSync(e.data) : Buffer.from(e.data);
		const method = e.method ?? (e.deflate ? 8 : 0);
		const crc = e.crc ?? crc32(e.data);
		const csize = e.csize ?? body.length;
		const usize = e.usize ?? e.data.length;
		const lh = Buffer.alloc(30);
		lh.writeUInt32LE(0x04034b50, 0); lh.writeUInt16LE(20, 4); lh.writeUInt16LE(e.flags ?? 0, 6);
		lh.writeUInt16LE(method, 8); lh.writeUInt32LE(crc, 14); lh.writeUInt32LE(csize, 18);
		lh.writeUInt32LE(usize, 22); lh.writeUInt16LE(name.length, 26);
		const ch = Buffer.alloc(46);
		ch.writeUInt32LE(0x02014b50, 0); ch.writeUInt16LE(20, 4); ch.writeUInt16LE(20, 6);
		ch.writeUInt16LE(e.flags ?? 0, 8); ch.writeUInt16LE(method, 10); ch.writeUInt32LE(crc, 16);
		ch.writeUInt32LE(csize, 20); ch.writeUInt32LE(usize, 24); ch.writeUInt16LE(name.length, 28);
		ch.writeUInt32LE(offset, 42);
		locals.push(lh, name, body);
		centrals.push(ch, name);
		offset += 30 + name.length + body.length;
	}
	const cd = Buffer.concat(centrals);
	const end = Buffer.alloc(22);
	end.writeUInt32LE(0x06054b50, 0); end.writeUInt16LE(entries.length, 8); end.writeUInt16LE(entries.length, 10);
	end.writeUInt32LE(cd.length, 12); end.writeUInt32LE(offset, 16);
	return new Uint8Array(Buffer.concat([...locals, cd, end]));
}
