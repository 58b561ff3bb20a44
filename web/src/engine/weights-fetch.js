// Weights from a URL, in the engine worker: Cache Storage first, else a CORS
// fetch that follows the hub's redirects, read as a stream so the page can show
// MB of MB, speed and a cancel button. Only bytes the engine accepted are cached
// (model-session.js calls `remember` after a good load), so a broken download
// is fetched again next time rather than served from the cache forever.

/** Cache Storage bucket for weights files, keyed by the URL the user gave. */
export const WEIGHTS_CACHE = 'gradbox-weights-v1';

/**
 * The cached bytes for `url`, or null (no cache, or Cache Storage unavailable:
 * an opaque origin or a private window).
 * @param {string} url
 */
export async function cachedWeights(url) {
	try {
		const hit = await (await caches.open(WEIGHTS_CACHE)).match(url);
		return hit ? new Uint8Array(await hit.arrayBuffer()) : null;
	} catch {
		return null;
	}
}

/**
 * Keeps `bytes` for `url`. A full quota only costs the next visit a download,
 * so the failure is reported, not thrown.
 * @returns {Promise<string | null>} why it could not be kept, or null
 */
export async function remember(url, bytes) {
	try {
		const headers = { 'Content-Type': 'application/octet-stream', 'Content-Length': String(bytes.length) };
		await (await caches.open(WEIGHTS_CACHE)).put(url, new Response(bytes, { headers }));
		return null;
	} catch (err) {
		return `the file could not be kept for the next visit (${err?.name === 'QuotaExceededError' ? 'storage is full' : err?.message ?? err})`;
	}
}

/** Forgets every cached weights file. */
export async function forgetCached() {
	try {
		await caches.delete(WEIGHTS_CACHE);
	} catch {
		/* nothing was cached */
	}
}

/** A readable sentence for a failed fetch: CORS, network and HTTP failures look alike to scripts. */
function fetchProblem(url, err) {
	if (err?.name === 'AbortError') return err;
	const host = (() => {
		try {
			return new URL(url).host;
		} catch {
			return url;
		}
	})();
	const e = new Error(`could not download the weights from ${host}: the network is unreachable, the server refused ` +
		'the request (CORS), or this page is not allowed to connect there (its Content-Security-Policy allows ' +
		`only the Hugging Face hub). ${err?.message ? `(${err.message})` : ''}`.trim());
	e.name = 'NetworkError';
	return e;
}

/**
 * Downloads `url` with progress. `progress({ loaded, total, bytesPerSecond })`
 * is called at most every 100 ms; `total` is null when the server does not say.
 * @param {string} url
 * @param {{ signal?: AbortSignal, progress?: (p: object) => void }} opts
 * @returns {Promise<Uint8Array>}
 */
export async function downloadWeights(url, { signal, progress = () => {} } = {}) {
	let parsed;
	try {
		parsed = new URL(url);
	} catch {
		throw new Error(`'${url}' is not a URL`);
	}
	if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new Error(`only http(s) URLs can be downloaded, not ${parsed.protocol}`);
	let res;
	try {
		// CORS mode, no cookies: the hub answers with a redirect to its storage
		// host, and both answers carry Access-Control-Allow-Origin (needed under COEP).
		res = await fetch(url, { mode: 'cors', credentials: 'omit', redirect: 'follow', cache: 'no-store', signal });
	} catch (err) {
		throw fetchProblem(url, err);
	}
	if (!res.ok) throw new Error(`the server answered ${res.status} ${res.statusText} for ${parsed.host}${parsed.pathname}`);
	const total = Number(res.headers.get('Content-Length')) || Number(res.headers.get('X-Linked-Size')) || null;
	const reader = res.body.getReader();
	const chunks = [];
	let loaded = 0;
	const start = performance.now();
	let last = 0;
	for (;;) {
		let part;
		try {
			part = await reader.read();
		} catch (err) {
			throw signal?.aborted ? signal.reason ?? err : fetchProblem(url, err);
		}
		if (part.done) break;
		chunks.push(part.value);
		loaded += part.value.length;
		const now = performance.now();
		if (now - last > 100) {
			last = now;
			progress({ loaded, total, bytesPerSecond: (loaded / Math.max(1, now - start)) * 1000 });
		}
	}
	if (total && loaded !== total) throw new Error(`the download stopped at ${loaded} of ${total} bytes`);
	progress({ loaded, total: total ?? loaded, bytesPerSecond: (loaded / Math.max(1, performance.now() - start)) * 1000 });
	const bytes = new Uint8Array(loaded);
	let at = 0;
	for (const c of chunks) {
		bytes.set(c, at);
		at += c.length;
	}
	return bytes;
}

/** The SHA-256 of `bytes` as hex (WebCrypto). */
export async function sha256(bytes) {
	const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
	return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}
