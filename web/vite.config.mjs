// Vite config for the Gradbox web page (root: web/).
// COOP/COEP make the page cross-origin isolated so the threaded wasm build can
// use SharedArrayBuffer; GB_NO_COOP=1 turns them off to exercise the
// single-thread fallback (the e2e suite runs both).
import { defineConfig } from 'vite';
import preact from '@preact/preset-vite';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
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
	plugins: [preact()],
	// The worker imports ../js/engine.mjs (outside web/): let the dev server read it.
	server: { headers, fs: { allow: [repoRoot] } },
	preview: { headers },
	worker: { format: 'es' },
	build: { outDir: 'dist', emptyOutDir: true, target: 'es2022' },
});
