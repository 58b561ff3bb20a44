// Full-page screenshots of the lesson at 1280 and 375 px, for judging the
// design by eye: node tests/e2e/screenshots.mjs http://127.0.0.1:8080/ [outDir]
import { chromium } from 'playwright-core';

const url = process.argv[2] ?? 'http://127.0.0.1:8080/';
const outDir = process.argv[3] ?? 'test-results/screenshots';
const browser = await chromium.launch({
	executablePath: '/usr/bin/chromium',
	args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
		'--disable-component-update', '--disable-sync'],
});
for (const width of [1280, 375]) {
	const page = await browser.newPage({ viewport: { width, height: 900 } });
	page.on('console', (m) => m.type() === 'error' && console.error(`${width}px console error: ${m.text()}`));
	await page.goto(url);
	await page.getByTestId('print-b').waitFor();
	await page.waitForTimeout(500);
	await page.screenshot({ path: `${outDir}/lesson-${width}.png`, fullPage: true });
	console.log(`${outDir}/lesson-${width}.png`);
	await page.close();
}
await browser.close();
