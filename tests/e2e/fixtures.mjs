// Shared e2e fixture: opens the lesson and records anything that should
// never happen (console errors, uncaught exceptions, CSP violations,
// requests to other origins); each test fails if any was seen. Part 2 loads
// itself when a test scrolls near it, so the page is always pointed at the
// stand-in weights hub (serve.mjs), never at the real one.
import { test as base, expect } from '@playwright/test';

export const DEFAULT_Q = 'tensor([-12.,  65.], grad_fn=<SubBackward0>)';
export const PRINT_A = 'tensor([True, True]) tensor([36., 81.])';
export const PRINT_B = 'tensor([True, True]) tensor([-12.,  -8.])';

export const test = base.extend({
	lesson: async ({ page, baseURL }, use) => {
		const problems = [];
		const origin = new URL(baseURL).origin;
		const port = Number(process.env.GB_E2E_PORT || 47311);
		const hub = `http://127.0.0.1:${port + 2}`;
		const allowed = [origin, hub, `http://127.0.0.1:${port + 3}`];
		page.on('console', (m) => {
			if (m.type() === 'error' || m.type() === 'warning') problems.push(`console.${m.type()}: ${m.text()}`);
		});
		page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
		page.on('request', (r) => {
			const u = r.url();
			if (!allowed.some((o) => u.startsWith(o)) && !u.startsWith('data:') && !u.startsWith('blob:')) problems.push(`external request: ${u}`);
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
				if (!params.has('weights')) params.set('weights', `${hub}/timm/resnet18.tv_in1k/resolve/main/model.safetensors`);
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
