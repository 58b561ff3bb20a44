// Shared e2e fixture: opens the lesson and records anything that should
// never happen (console errors, uncaught exceptions, CSP violations,
// requests to other origins); each test fails if any was seen.
import { test as base, expect } from '@playwright/test';

export const DEFAULT_Q = 'tensor([-12.,  65.], grad_fn=<SubBackward0>)';
export const PRINT_A = 'tensor([True, True]) tensor([36., 81.])';
export const PRINT_B = 'tensor([True, True]) tensor([-12.,  -8.])';

export const test = base.extend({
	lesson: async ({ page, baseURL }, use) => {
		const problems = [];
		const origin = new URL(baseURL).origin;
		page.on('console', (m) => {
			if (m.type() === 'error' || m.type() === 'warning') problems.push(`console.${m.type()}: ${m.text()}`);
		});
		page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
		page.on('request', (r) => {
			const u = r.url();
			if (!u.startsWith(origin) && !u.startsWith('data:') && !u.startsWith('blob:')) problems.push(`external request: ${u}`);
		});
		await page.addInitScript(() => {
			document.addEventListener('securitypolicyviolation', (e) => {
				console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`);
			});
		});
		const lesson = {
			problems,
			/** Opens the page with an optional query (e.g. 'build=scalar') and hash. */
			async open({ query = '', hash = '' } = {}) {
				const params = new URLSearchParams(query);
				const qs = params.toString();
				await page.goto(`${baseURL}${qs ? `?${qs}` : ''}${hash}`);
				await expect(page.getByTestId('engine-badge')).not.toHaveAttribute('data-build', '', { timeout: 15_000 });
				await expect(page.getByTestId('out-q')).toBeVisible();
			},
		};
		await use(lesson);
		expect(problems, 'console errors, page errors, CSP violations or external requests').toEqual([]);
	},
});

export { expect };

/**
 * Waits until the element's text is exactly `text`, whitespace included
 * (toHaveText with a string collapses runs of spaces, which would hide
 * PyTorch's padding such as `tensor([-12.,  -8.])`).
 */
export async function expectText(locator, text) {
	await expect.poll(() => locator.textContent(), { timeout: 10_000 }).toBe(text);
}
