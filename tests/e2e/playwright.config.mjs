// Playwright end-to-end suite for the lesson page. One server process
// (serve.mjs) builds the page and serves it with and without COOP/COEP; each
// project runs the whole suite against one of them.
import { defineConfig } from '@playwright/test';

const port = Number(process.env.GB_E2E_PORT || 47311);

const launchOptions = {
	executablePath: '/usr/bin/chromium',
	args: [
		'--no-sandbox',
		'--disable-gpu',
		'--disable-quic',
		'--no-first-run',
		'--disable-background-networking',
		'--disable-component-update',
		'--disable-sync',
	],
};

export default defineConfig({
	testDir: '.',
	testMatch: '*.spec.mjs',
	timeout: 30_000,
	expect: { timeout: 10_000 },
	fullyParallel: true,
	workers: 2,
	reporter: [['list']],
	use: { browserName: 'chromium', launchOptions, trace: 'off' },
	webServer: {
		command: 'node tests/e2e/serve.mjs',
		cwd: '../..',
		url: `http://127.0.0.1:${port + 1}/`,
		reuseExistingServer: false,
		timeout: 120_000,
		stdout: 'pipe',
	},
	projects: [
		{ name: 'isolated', use: { baseURL: `http://127.0.0.1:${port}/` } },
		{ name: 'no-coop', use: { baseURL: `http://127.0.0.1:${port + 1}/` } },
	],
});
