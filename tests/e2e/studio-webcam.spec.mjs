// Live webcam predictions with Chromium's fake camera (a launch flag, so its own file): the bars
// update, frames go one at a time, the stream stops when toggled off. The rate is printed (a
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

test('webcam live: bars update, one frame at a time, the stream stops when toggled off', async ({ page, frozen }) => {
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
	await page.getByTestId('webcam-toggle').uncheck();
	await expect.poll(() => page.evaluate(() => document.querySelector('[data-testid=webcam] video').srcObject)).toBeNull();
});
