// js/safe-zip.mjs: a round trip, and hostile archives (made here by tests/node/hostile-zip.mjs)
// refused with a sentence before anything large is inflated.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readZip, writeZip, ZipError, crc32 } from '../../js/safe-zip.mjs';
import { craftZip } from './hostile-zip.mjs';

const enc = (s) => new TextEncoder().encode(s);

test('round trip: names with folders, stored and deflated entries; Python\'s zipfile reads it', () => {
	const big = new Uint8Array(100_000).map((_, i) => (i * 7) & 0xff);
	const zip = writeZip([['project.json', enc('{"a":1}')], ['images/a b.png', big], ['empty.txt', new Uint8Array(0)]]);
	const back = readZip(zip);
	assert.deepEqual([...back.keys()], ['project.json', 'images/a b.png', 'empty.txt']);
	assert.deepEqual(back.get('images/a b.png'), big);
	assert.equal(new TextDecoder().decode(back.get('project.json')), '{"a":1}');
	const dir = mkdtempSync(join(tmpdir(), 'gb-zip-'));
	writeFileSync(join(dir, 'x.zip'), zip);
	const py = 'import zipfile,sys,zlib\nz=zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None\nprint(",".join(n+":"+str(zlib.crc32(z.read(n))) for n in z.namelist()))';
	const out = execFileSync('/usr/bin/python3', ['-c', py, join(dir, 'x.zip')]).toString().trim();
	assert.equal(out, `project.json:${crc32(enc('{"a":1}'))},images/a b.png:${crc32(big)},empty.txt:0`);
});

test('reads a zip written by Python (deflate, folders)', () => {
	const dir = mkdtempSync(join(tmpdir(), 'gb-zip-'));
	const py = 'import zipfile,sys\nz=zipfile.ZipFile(sys.argv[1],"w",zipfile.ZIP_DEFLATED)\nz.writestr("d/", "")\nz.writestr("d/x.txt", "hello "*1000)\nz.close()';
	execFileSync('/usr/bin/python3', ['-c', py, join(dir, 'p.zip')]);
	const back = readZip(new Uint8Array(readFileSync(join(dir, 'p.zip'))));
	assert.deepEqual([...back.keys()], ['d/x.txt']);
	assert.equal(new TextDecoder().decode(back.get('d/x.txt')), 'hello '.repeat(1000));
});

test('not a zip, truncated, corrupt: refused with a reason', () => {
	assert.throws(() => readZip(enc('just some text, not a zip at all')), /not a zip file/);
	assert.throws(() => readZip(new Uint8Array(5)), /not a zip file \(too short\)/);
	const good = writeZip([['a.txt', enc('hello hello hello')]]);
	assert.throws(() => readZip(good.subarray(0, good.length - 30)), ZipError);
	const wrongCrc = craftZip([{ name: 'a.txt', data: enc('hello'), crc: 1234 }]);
	assert.throws(() => readZip(wrongCrc), /fails its checksum/);
	const garbage = craftZip([{ name: 'a.txt', data: enc('hello'), deflate: true }]);
	garbage[30 + 5] ^= 0xff; garbage[31 + 5] ^= 0xff;
	assert.throws(() => readZip(garbage), ZipError);
	assert.throws(() => readZip(craftZip([{ name: 'a', data: enc('x'), flags: 1 }])), /encrypted/);
	assert.throws(() => readZip(craftZip([{ name: 'a', data: enc('x'), method: 12 }])), /compression method 12/);
});

test('hostile names: .., absolute, backslash, duplicates', () => {
	for (const [name, why] of [['../evil.txt', /`\.\.`/], ['a/../../b', /`\.\.`/], ['/etc/passwd', /absolute/], ['C:/x', /absolute/],
		['a\\b.txt', /backslash/], ['a\u0000b', /control/]]) {
		assert.throws(() => readZip(craftZip([{ name, data: enc('x') }])), why, name);
	}
	assert.throws(() => readZip(craftZip([{ name: 'a.txt', data: enc('x') }, { name: 'a.txt', data: enc('y') }])), /appears twice/);
	assert.throws(() => writeZip([['../x', enc('x')]]), /`\.\.`/);
});

test('size caps: entry count, declared sizes before inflating, and a zip bomb that lies', () => {
	const many = craftZip(Array.from({ length: 12 }, (_, i) => ({ name: `f${i}`, data: enc('x') })));
	assert.throws(() => readZip(many, { maxEntries: 10 }), /12 entries; at most 10/);
	const declared = craftZip([{ name: 'huge.bin', data: enc('x'), usize: 3e9 }]);
	assert.throws(() => readZip(declared), /would be 3000000000 bytes/);
	const total = craftZip([{ name: 'a', data: new Uint8Array(600) }, { name: 'b', data: new Uint8Array(600) }]);
	assert.throws(() => readZip(total, { maxTotalBytes: 1000 }), /more than 1000 bytes/);
	// 50 MB of zeros deflates to ~50 KB; the entry claims 1 KB: inflation stops at the cap
	const bomb = craftZip([{ name: 'bomb.bin', data: new Uint8Array(50e6), deflate: true, usize: 1024 }]);
	const t0 = performance.now();
	assert.throws(() => readZip(bomb), /unpacks to more than it declares/);
	assert.ok(performance.now() - t0 < 2000, 'stopped early');
	assert.throws(() => readZip(craftZip([{ name: 'a', data: enc('abc'), usize: 5 }])), /two sizes|corrupt/);
});
