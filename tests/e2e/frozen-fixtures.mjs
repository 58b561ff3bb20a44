// Part 2's e2e fixture: the page opened at part 2 with its weights URL on the
// stand-in hub (tests/e2e/weights-server.mjs, started by serve.mjs on
// GB_E2E_PORT + 2 and + 3). Like the lesson fixture it fails a test on a
// console error, a page error, a CSP violation or a request to an origin that
// is neither the page's nor the hub's; a test that provokes a failed download
// names the console errors it expects.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { test as base, expect } from '@playwright/test';
import { FROZEN_FIXTURES } from './frozen/fixtures.mjs';

const port = Number(process.env.GB_E2E_PORT || 47311);
export const HUB = `http://127.0.0.1:${port + 2}`;
export const CDN = `http://127.0.0.1:${port + 3}`;
export const FIX = FROZEN_FIXTURES;
export const manifest = JSON.parse(readFileSync(join(FIX, 'manifest.json'), 'utf8'));
export const fixtureText = (rel) => readFileSync(join(FIX, rel), 'utf8');
export const fixtureJson = (rel) => JSON.parse(fixtureText(rel));
export const fixturePath = (rel) => join(FIX, rel);

let serial = 0;
/**
 * A hub URL no other test uses (its own repo name), so its requests can be
 * counted apart: `file` is 'model.safetensors' or a fixture path; `modes` e.g. ['slow'].
 */
export function hubUrl(file = 'model.safetensors', { modes = [], query = '' } = {}) {
	const token = `r${process.pid}-${Date.now()}-${serial++}`;
	// the token goes in the repo name (the hub's log) and the query (passed on to the cdn)
	const q = new URLSearchParams(query);
	q.set('t', token);
	return `${HUB}/${[...modes, `test/${token}`].join('/')}/resolve/main/${file}?${q}`;
}

/** The token of a hubUrl, to find its requests. */
export const tokenOf = (url) => new URL(url).searchParams.get('t');

/** The hub's and cdn's GET requests whose path contains `part` (a hubUrl's token). */
export async function hubRequests(part) {
	const log = await (await fetch(`${HUB}/__requests`)).json();
	return log.filter((r) => r.method === 'GET' && r.path.includes(part));
}

export const test = base.extend({
	frozen: async ({ page, baseURL }, use) => {
		const problems = [];
		const expected = [];
		const origins = [new URL(baseURL).origin, HUB, CDN];
		page.on('console', (m) => {
			if (m.type() !== 'error' && m.type() !== 'warning') return;
			if (expected.some((re) => re.test(m.text()))) return;
			problems.push(`console.${m.type()}: ${m.text()}`);
		});
		page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
		page.on('request', (r) => {
			const u = r.url();
			if (!origins.some((o) => u.startsWith(o)) && !u.startsWith('data:') && !u.startsWith('blob:')) problems.push(`external request: ${u}`);
		});
		await page.addInitScript(() => {
			document.addEventListener('securitypolicyviolation', (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`));
		});
		const frozen = {
			problems,
			/** Console errors matching `re` are expected (a refused download logs one). */
			expectConsole(re) { expected.push(re); },
			/**
			 * Presses "open part 2" (without scrolling to it: coming near part 2
			 * loads it too, and replaces the button under the pointer), unless
			 * part 2 has opened itself.
			 */
			async openPartTwo() {
				// a reload keeps the scroll position, which may be near part 2 already
				await page.getByTestId('open-part-two').or(page.getByTestId('part-two')).first().waitFor({ state: 'attached' });
				await page.evaluate(() => document.querySelector('[data-testid=open-part-two]')?.click());
			},
			/** Opens the page with ?weights=url, opens part 2 and waits for the model. */
			async open(url, { query = '' } = {}) {
				const q = new URLSearchParams(query);
				q.set('weights', url);
				await page.goto(`${baseURL}?${q}`);
				await frozen.openPartTwo();
				await expect(page.getByTestId('part-two')).toHaveAttribute('data-phase', 'ready', { timeout: 60_000 });
				await expect(page.getByTestId('trainable-totals')).toBeVisible();
			},
		};
		await use(frozen);
		expect(problems, 'console errors, page errors, CSP violations or requests elsewhere').toEqual([]);
	},
});

export { expect };
