// weights-server.test.mjs: the e2e suite's stand-in for the Hugging Face hub
// (tests/e2e/weights-server.mjs), driven with Node's fetch. A small made-up fixtures folder stands
// in for the real one, so this needs no PyTorch.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, test } from 'node:test';

import { startWeightsServer } from '../e2e/weights-server.mjs';

const MODEL = 'weights/resnet18_seed0.safetensors';
const BODY = Buffer.from(Array.from({ length: 16 * 64 * 1024 + 3 }, (_, i) => (i * 31) & 255));
const SHA = createHash('sha256').update(BODY).digest('hex');
let dir;
let server;

before(async () => {
	dir = mkdtempSync(join(tmpdir(), 'gb-weights-'));
	mkdirSync(join(dir, 'weights'));
	mkdirSync(join(dir, 'broken'));
	writeFileSync(join(dir, MODEL), BODY);
	writeFileSync(join(dir, 'broken/empty.safetensors'), '');
	const files = {
		[MODEL]: { bytes: BODY.length, sha256: SHA },
		'broken/empty.safetensors': { bytes: 0, sha256: createHash('sha256').digest('hex') },
	};
	writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ files }));
	server = await startWeightsServer({ fixturesDir: dir });
});
after(async () => {
	await server.close();
	rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => fetch(`${server.hubUrl}/__reset`, { method: 'POST' }));

const paths = (origin) => server.requests.filter((r) => r.origin === origin).map((r) => `${r.method} ${r.path}`);

test('the hub redirects the default URL to the cdn, with CORS headers and the linked size', async () => {
	assert.equal(server.url, `${server.hubUrl}/timm/resnet18.tv_in1k/resolve/main/model.safetensors`);
	assert.notEqual(new URL(server.hubUrl).origin, new URL(server.cdnUrl).origin);
	const r = await fetch(server.url, { redirect: 'manual' });
	assert.equal(r.status, 302);
	assert.equal(r.headers.get('location'), `${server.cdnUrl}/${MODEL}`);
	assert.equal(r.headers.get('access-control-allow-origin'), '*');
	for (const h of ['Content-Length', 'ETag', 'X-Linked-Size']) assert.match(r.headers.get('access-control-expose-headers'), new RegExp(h));
	assert.equal(r.headers.get('x-linked-size'), String(BODY.length));
	assert.equal(r.headers.get('cache-control'), 'no-store');
});

test('following the redirect gives the bytes, their length and ETag, CORS and CORP', async () => {
	const r = await fetch(server.url);
	assert.equal(r.status, 200);
	assert.deepEqual(Buffer.from(await r.arrayBuffer()), BODY);
	assert.equal(r.headers.get('content-length'), String(BODY.length));
	assert.equal(r.headers.get('etag'), `"${SHA}"`);
	assert.equal(r.headers.get('access-control-allow-origin'), '*');
	assert.equal(r.headers.get('cross-origin-resource-policy'), 'cross-origin');
	assert.deepEqual(paths('hub'), ['GET /timm/resnet18.tv_in1k/resolve/main/model.safetensors']);
	assert.deepEqual(paths('cdn'), [`GET /${MODEL}`]);
	const again = await fetch(`${server.cdnUrl}/${MODEL}`, { headers: { 'If-None-Match': `"${SHA}"` } });
	assert.equal(again.status, 304);
});

test('any repo, revision and fixture path; unknown files are 404 on both origins', async () => {
	const r = await fetch(server.urlFor('broken/empty.safetensors', { repo: 'someone/else' }), { redirect: 'manual' });
	assert.equal(r.headers.get('location'), `${server.cdnUrl}/broken/empty.safetensors`);
	for (const url of [server.urlFor('nothing.bin'), `${server.cdnUrl}/manifest.json`, `${server.cdnUrl}/../manifest.json`]) {
		const n = await fetch(url);
		assert.equal(n.status, 404, url);
		assert.equal(n.headers.get('x-error-code'), 'EntryNotFound');
	}
});

test('HEAD and OPTIONS preflights', async () => {
	const h = await fetch(server.url, { method: 'HEAD', redirect: 'manual' });
	assert.equal(h.status, 302);
	const c = await fetch(`${server.cdnUrl}/${MODEL}`, { method: 'HEAD' });
	assert.equal(c.status, 200);
	assert.equal(c.headers.get('content-length'), String(BODY.length));
	assert.equal((await c.arrayBuffer()).byteLength, 0);
	for (const base of [server.hubUrl, server.cdnUrl]) {
		const p = await fetch(`${base}/${MODEL}`, { method: 'OPTIONS', headers: {
			Origin: 'http://127.0.0.1:1', 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'if-none-match' } });
		assert.equal(p.status, 204);
		assert.equal(p.headers.get('access-control-allow-origin'), '*');
		assert.equal(p.headers.get('access-control-allow-headers'), 'if-none-match');
		assert.match(p.headers.get('access-control-allow-methods'), /GET/);
	}
	assert.deepEqual(server.requests.map((r) => `${r.origin} ${r.method}`), ['hub HEAD', 'cdn HEAD', 'hub OPTIONS', 'cdn OPTIONS']);
});

test('/slow/ streams 64 KiB per ?slow= ms; a download can be cancelled half way', async () => {
	const t0 = performance.now();
	const r = await fetch(server.urlFor('model.safetensors', { modes: ['slow'], query: '?slow=30' }));
	assert.equal(r.url, `${server.cdnUrl}/slow/${MODEL}?slow=30`);
	let reads = 0;
	for await (const _chunk of r.body) reads++;
	assert.ok(performance.now() - t0 >= 16 * 30 * 0.9, `took ${performance.now() - t0} ms`);
	assert.ok(reads >= 10, `${reads} reads`);

	const ac = new AbortController();
	const slow = await fetch(server.urlFor('model.safetensors', { modes: ['slow'] }), { signal: ac.signal });
	const reader = slow.body.getReader();
	await reader.read();
	ac.abort();
	await assert.rejects(reader.read(), { name: 'AbortError' });
	assert.equal((await fetch(`${server.cdnUrl}/${MODEL}`)).status, 200);
});

test('/fail/ is a 500 the page can read; /nocors/ lacks the CORS header', async () => {
	const f = await fetch(server.urlFor('model.safetensors', { modes: ['fail'] }));
	assert.equal(f.status, 500);
	assert.equal(f.headers.get('access-control-allow-origin'), '*');
	const n = await fetch(server.urlFor('model.safetensors', { modes: ['nocors'] }));
	assert.equal(n.status, 200);
	assert.equal(n.headers.get('access-control-allow-origin'), null);
	await n.arrayBuffer();
});

test('/drop/ closes the connection half way: reading the body fails', async () => {
	const r = await fetch(server.urlFor('model.safetensors', { modes: ['drop'] }));
	assert.equal(r.status, 200);
	let got = 0;
	await assert.rejects(async () => { for await (const chunk of r.body) got += chunk.length; });
	assert.ok(got > 0 && got <= BODY.length / 2, `${got} bytes before the drop`);
});

test('the request log over HTTP: GET /__requests, POST /__reset', async () => {
	await fetch(server.url);
	const log = await (await fetch(`${server.hubUrl}/__requests`)).json();
	assert.deepEqual(log.map((r) => [r.origin, r.method, r.path]),
		[['hub', 'GET', '/timm/resnet18.tv_in1k/resolve/main/model.safetensors'], ['cdn', 'GET', `/${MODEL}`]]);
	assert.ok(log.every((r) => typeof r.time === 'number' && r.time <= Date.now()));
	assert.equal((await fetch(`${server.hubUrl}/__reset`, { method: 'POST' })).status, 204);
	assert.deepEqual(await (await fetch(`${server.hubUrl}/__requests`)).json(), []);
});

test('cdnHost: localhost gives the cdn another host name as well as port', async () => {
	const s = await startWeightsServer({ fixturesDir: dir, cdnHost: 'localhost' });
	try {
		assert.match(s.cdnUrl, /^http:\/\/localhost:\d+$/);
		const r = await fetch(s.url);
		assert.equal(r.url, `${s.cdnUrl}/${MODEL}`);
		assert.equal((await r.arrayBuffer()).byteLength, BODY.length);
	} finally {
		await s.close();
	}
});
