// weights-server.mjs: plays the Hugging Face hub for the e2e tests, on two origins of its own.
//   hub  GET|HEAD /<repo>/resolve/<rev>/<file>  ->  302 to the cdn, as huggingface.co redirects
//        to its storage hosts; GET /__requests (the request log), POST /__reset (empties it)
//   cdn  GET|HEAD /<fixture path>               ->  the bytes, with CORS, CORP and an ETag
// Mode prefixes, on either origin (the hub passes them on in its Location, with the query):
//   /slow/    64 KiB every `?slow=` ms (default 25): progress can be watched and cancelled
//   /fail/    500 from the cdn
//   /nocors/  the cdn leaves out Access-Control-Allow-Origin: a browser must refuse the body
//   /drop/    the cdn closes the connection after half the body (Content-Length says all)
// Only files listed in the fixtures' manifest.json are served (ETag = their SHA-256). Nothing is
// cacheable (Cache-Control: no-store), so a reload that sends no request was served from the
// page's own Cache Storage, not from the HTTP cache. See tests/e2e/frozen/README.md.
//
//   node tests/e2e/weights-server.mjs [--port N] [--cdn-port M] [--cdn-host localhost] [--fixtures DIR]
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';

const CHUNK = 64 * 1024;
const DEFAULT_SLOW_MS = 25;
const MODES = new Set(['slow', 'fail', 'nocors', 'drop']);
// The hub's file names for the fixtures; any other <file> is a fixture path (weights/..., broken/...).
const ALIASES = { 'model.safetensors': 'weights/resnet18_seed0.safetensors', 'pytorch_model.bin': 'weights/resnet18_seed0.pth' };
const REPO_COMMIT = '0000000000000000000000000000000000f0f0f0';
const CORS = {
	'Access-Control-Allow-Origin': '*',
	'Access-Control-Expose-Headers': 'Content-Length, ETag, X-Linked-Size, X-Linked-ETag, X-Repo-Commit, X-Error-Code',
};
const COMMON = { 'Cache-Control': 'no-store', 'Cross-Origin-Resource-Policy': 'cross-origin' };

/** Splits '/slow/drop/a/b?x' into modes ['slow', 'drop'], rest 'a/b' and search '?x'. */
function parseTarget(reqUrl) {
	const u = new URL(reqUrl, 'http://x');
	const parts = u.pathname.split('/').slice(1).map(decodeURIComponent);
	const modes = [];
	while (parts.length > 1 && MODES.has(parts[0])) modes.push(parts.shift());
	return { modes, rest: parts.join('/'), search: u.search, slow: u.searchParams.get('slow') };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves when res can take more data or is closed (a cancelled download). */
function drained(res) {
	if (res.destroyed) return Promise.resolve();
	return new Promise((resolve) => {
		const done = () => { res.off('drain', done); res.off('close', done); resolve(); };
		res.on('drain', done);
		res.on('close', done);
	});
}

function preflight(req, res) {
	res.writeHead(204, {
		...CORS, ...COMMON,
		'Access-Control-Allow-Methods': 'GET, HEAD, OPTIONS',
		'Access-Control-Allow-Headers': req.headers['access-control-request-headers'] || '*',
	}).end();
}

/**
 * Starts the two listeners on 127.0.0.1.
 * @param {{fixturesDir: string, port?: number, cdnPort?: number, cdnHost?: string}} opts
 *   port: the hub's (0 = any free one); cdnPort likewise; cdnHost: the host name the hub's
 *   Location uses ('127.0.0.1', or 'localhost' for a different host name as well as port).
 * @returns {Promise<{url: string, hubUrl: string, cdnUrl: string, urlFor: Function,
 *   requests: {origin: 'hub'|'cdn', method: string, path: string, time: number}[], close: () => Promise<void>}>}
 */
export async function startWeightsServer({ fixturesDir, port = 0, cdnPort = 0, cdnHost = '127.0.0.1' }) {
	const { files } = JSON.parse(readFileSync(join(fixturesDir, 'manifest.json'), 'utf8'));
	const cache = new Map();
	const bytesOf = (rel) => cache.get(rel) ?? cache.set(rel, readFileSync(join(fixturesDir, rel))).get(rel);
	const requests = [];
	let cdnUrl;

	const notFound = (res, cors) => res.writeHead(404, { ...(cors ? CORS : {}), ...COMMON, 'X-Error-Code': 'EntryNotFound',
		'Content-Type': 'text/plain' }).end('Entry not found');

	function hub(req, res) {
		if (req.url === '/__requests' && req.method === 'GET') {
			return res.writeHead(200, { ...CORS, ...COMMON, 'Content-Type': 'application/json' }).end(JSON.stringify(requests));
		}
		if (req.url === '/__reset' && req.method === 'POST') {
			requests.length = 0;
			return res.writeHead(204, { ...CORS, ...COMMON }).end();
		}
		requests.push({ origin: 'hub', method: req.method, path: req.url, time: Date.now() });
		if (req.method === 'OPTIONS') return preflight(req, res);
		if (req.method !== 'GET' && req.method !== 'HEAD') return res.writeHead(405, { Allow: 'GET, HEAD, OPTIONS' }).end();
		const { modes, rest, search } = parseTarget(req.url);
		const m = /^(.+)\/resolve\/[^/]+\/(.+)$/.exec(rest);
		const rel = m && (ALIASES[m[2]] ?? m[2]);
		if (!rel || !files[rel]) return notFound(res, true);
		const { bytes, sha256 } = files[rel];
		res.writeHead(302, {
			...CORS, ...COMMON,
			Location: `${cdnUrl}/${[...modes, rel].join('/')}${search}`,
			ETag: `"${sha256}"`, 'X-Linked-ETag': `"${sha256}"`, 'X-Linked-Size': String(bytes), 'X-Repo-Commit': REPO_COMMIT,
			'Content-Length': '0',
		}).end();
	}

	async function cdn(req, res) {
		requests.push({ origin: 'cdn', method: req.method, path: req.url, time: Date.now() });
		if (req.method === 'OPTIONS') return preflight(req, res);
		if (req.method !== 'GET' && req.method !== 'HEAD') return res.writeHead(405, { Allow: 'GET, HEAD, OPTIONS' }).end();
		const { modes, rest, slow } = parseTarget(req.url);
		const cors = modes.includes('nocors') ? {} : CORS;
		if (!files[rest]) return notFound(res, !modes.includes('nocors'));
		if (modes.includes('fail')) {
			return res.writeHead(500, { ...cors, ...COMMON, 'Content-Type': 'text/plain' }).end('Internal Server Error (fixture /fail/)');
		}
		const etag = `"${files[rest].sha256}"`;
		if (req.headers['if-none-match'] === etag) return res.writeHead(304, { ...cors, ...COMMON, ETag: etag }).end();
		const buf = bytesOf(rest);
		res.writeHead(200, { ...cors, ...COMMON, ETag: etag, 'Content-Type': 'application/octet-stream',
			'Content-Length': String(buf.length) });
		if (req.method === 'HEAD') return res.end();
		const delay = slow !== null ? Number(slow) : modes.includes('slow') ? DEFAULT_SLOW_MS : 0;
		const drop = modes.includes('drop');
		const end = drop ? Math.floor(buf.length / 2) : buf.length;
		for (let off = 0; off < end; off += CHUNK) {
			if (off && delay) await sleep(delay);
			if (res.destroyed) return;   // the client cancelled
			if (!res.write(buf.subarray(off, Math.min(off + CHUNK, end)))) await drained(res);
		}
		if (drop) res.socket?.end();   // FIN before Content-Length bytes: a network error for the client
		else res.end();
	}

	const listen = (handler, p) => new Promise((resolve, reject) => {
		const server = http.createServer((req, res) => {
			(async () => handler(req, res))().catch((err) => res.destroy(err));
		});
		server.once('error', reject).listen(p, '127.0.0.1', () => resolve(server));
	});
	const hubServer = await listen(hub, port);
	const cdnServer = await listen(cdn, cdnPort);
	const hubUrl = `http://127.0.0.1:${hubServer.address().port}`;
	cdnUrl = `http://${cdnHost}:${cdnServer.address().port}`;
	/** The hub URL of a file ('model.safetensors', 'broken/empty.safetensors'...) with mode prefixes. */
	const urlFor = (file = 'model.safetensors', { modes = [], repo = 'timm/resnet18.tv_in1k', query = '' } = {}) =>
		`${hubUrl}/${[...modes, repo].join('/')}/resolve/main/${file}${query}`;
	return {
		url: urlFor(), hubUrl, cdnUrl, urlFor, requests,
		close: () => Promise.all([hubServer, cdnServer].map((s) => new Promise((resolve) => {
			s.closeAllConnections();
			s.close(() => resolve());
		}))).then(() => {}),
	};
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
	const { values } = parseArgs({ options: {
		port: { type: 'string', default: '0' }, 'cdn-port': { type: 'string' },
		'cdn-host': { type: 'string', default: '127.0.0.1' }, fixtures: { type: 'string' },
	} });
	const port = Number(values.port);
	const cdnPort = values['cdn-port'] !== undefined ? Number(values['cdn-port']) : port && port + 1;
	let fixturesDir = values.fixtures;
	if (!fixturesDir) fixturesDir = (await import('./frozen/fixtures.mjs')).ensureFrozenFixtures().dir;
	const server = await startWeightsServer({ fixturesDir, port, cdnPort, cdnHost: values['cdn-host'] });
	console.log(JSON.stringify({ url: server.url, hubUrl: server.hubUrl, cdnUrl: server.cdnUrl, fixturesDir }));
	for (const sig of ['SIGINT', 'SIGTERM']) process.once(sig, () => server.close().then(() => process.exit(0)));
}
