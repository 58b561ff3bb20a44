// Vite config for the Gradbox web page (root: web/).
// COOP/COEP make the page cross-origin isolated so the threaded wasm build can
// use SharedArrayBuffer; GB_NO_COOP=1 turns them off to exercise the
// single-thread fallback (the e2e suite runs both).
import { defineConfig } from 'vite';
import preact from '@preact/preset-vite';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));

// The page may fetch weights from the Hugging Face hub and the storage hosts
// its `resolve` URLs redirect to (CSP connect-src in index.html). A build for
// the tests adds their local weights server: GB_CONNECT_SRC_EXTRA="http://127.0.0.1:PORT ...".
const extraConnect = (process.env.GB_CONNECT_SRC_EXTRA ?? '').trim();
if (extraConnect && !/^(https?:\/\/[\w.-]+(:\d+)?\s*)+$/.test(extraConnect)) {
	throw new Error(`GB_CONNECT_SRC_EXTRA must be origins separated by spaces, not '${extraConnect}'`);
}
const cspExtra = {
	name: 'gradbox-csp-extra',
	transformIndexHtml: (html) => html.replace('%GB_CONNECT_SRC_EXTRA%', extraConnect ? ` ${extraConnect}` : ''),
};
const isolate = process.env.GB_NO_COOP !== '1';
const headers = isolate
	? {
			'Cross-Origin-Opener-Policy': 'same-origin',
			'Cross-Origin-Embedder-Policy': 'require-corp',
		}
	: {};

export default defineConfig({
	root: fileURLToPath(new URL('.', import.meta.url)),
	base: './',
	plugins: [preact(), cspExtra],
	// The worker imports ../js/engine.mjs (outside web/): let the dev server read it.
	server: { headers, fs: { allow: [repoRoot] } },
	preview: { headers },
	worker: { format: 'es' },
	build: { outDir: 'dist', emptyOutDir: true, target: 'es2022' },
});
