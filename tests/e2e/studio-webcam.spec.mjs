// Live webcam predictions with Chromium's fake camera (a launch flag, so its own file): the bars
// update, frames go one at a time, predictions pause while the video is out of view or the tab
// hidden, the stream stops when toggled off. The rate is printed (a
// figure for the bench table, not a timed assertion). Guards webcam-predict.jsx.
import { loadavg } from 'node:os';

import { test, expect } from './frozen-fixtures.mjs';
import { openStudio, fillClasses, setSetting, train, waitDone } from './studio/train-helpers.mjs';

test.setTimeout(240_000);
test.use({
	launchOptions: {
		executablePath: '/usr/bin/chromium',
		args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
			'--disable-component-update', '--disable-sync', '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'],
	},
});

test('webcam live: bars update, one frame at a time, paused out of view, stops when toggled off', async ({ page, frozen }) => {
	await openStudio(page, frozen);
	await fillClasses(page, { perClass: 3 });
	await setSetting(page, 'epochs', 1);
	await train(page);
	await waitDone(page);
	await page.getByTestId('webcam-toggle').check();
	const result = page.getByTestId('webcam-result');
	await expect(result).toBeVisible({ timeout: 30_000 });
	await expect(page.getByTestId('webcam-bars').locator('li')).toHaveCount(3);
	await page.waitForTimeout(5000);
	const fps = Number(await result.getAttribute('data-fps'));
	const status = await result.getByRole('status').textContent();
	console.log(`webcam (${test.info().project.name}): ${status}; load average ${loadavg()[0].toFixed(2)}`);
	expect(fps).toBeGreaterThan(0);

	// Out of view: no more predictions (at most the one already in the worker), then back again.
	const done = async () => Number(await page.getByTestId('webcam').getAttribute('data-predictions'));
	const stillFor = async (ms) => {
		const before = await done();
		await page.waitForTimeout(ms);
		return (await done()) - before;
	};
	await page.evaluate(() => window.scrollTo(0, 0));
	await expect(page.getByTestId('webcam-paused')).toBeAttached();
	await page.waitForTimeout(300);
	expect(await stillFor(1500)).toBe(0);
	await page.getByTestId('webcam-toggle').scrollIntoViewIfNeeded();
	await expect(result).toBeVisible();
	await expect.poll(() => stillFor(500)).toBeGreaterThan(0);
	// A hidden tab (as when the learner switches tabs) pauses it too.
	const setHidden = (hidden) => page.evaluate((h) => {
		Object.defineProperty(document, 'visibilityState', { value: h ? 'hidden' : 'visible', configurable: true });
		document.dispatchEvent(new Event('visibilitychange'));
	}, hidden);
	await setHidden(true);
	await expect(page.getByTestId('webcam-paused')).toBeVisible();
	await page.waitForTimeout(300);
	expect(await stillFor(1500)).toBe(0);
	await setHidden(false);
	await expect.poll(() => stillFor(500)).toBeGreaterThan(0);

	await page.getByTestId('webcam-toggle').uncheck();
	await expect.poll(() => page.evaluate(() => document.querySelector('[data-testid=webcam] video').srcObject)).toBeNull();
});
