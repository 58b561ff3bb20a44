// Part 3's data side through the UI: classes, images from the picker, drops (files and an
// ImageFolder tree), paste, webcam, hostile files, reload, storage failures, 1,000 images, the
// project file. Images are made by the test (tests/e2e/studio-fixtures.mjs).
import { test, expect } from './fixtures.mjs';
import { openStudio, card, png, pngFiles, pngHeaderOnly, jpeg, RED, BLUE, GREEN } from './studio-fixtures.mjs';

test.describe.configure({ timeout: 120_000 });

test('classes: add, rename with markup (shown as text), duplicates refused, remove asks first', async ({ page, lesson }) => {
	await openStudio(page, lesson);
	await expect(page.getByTestId('privacy')).toHaveText(/Your images never leave this device\./);
	await expect(page.getByTestId('class-card')).toHaveCount(2);
	const name0 = page.getByRole('textbox', { name: 'Name of class 1' });
	const markup = '<img src=x onerror="window.__pwned=1"><b>cats</b>';
	await name0.fill(markup);
	await name0.press('Enter');
	await expect(page.getByRole('listitem', { name: `Class 1: ${markup}` })).toBeVisible();
	await expect(page.locator('.studio img[src="x"], .studio b')).toHaveCount(0);
	const name1 = page.getByRole('textbox', { name: 'Name of class 2' });
	await name1.fill(`  ${markup} `);
	await name1.press('Enter');
	await expect(page.getByRole('alert').filter({ hasText: 'There is already a class named' })).toBeVisible();
	await name1.press('Escape');
	await expect(name1).toHaveValue('Class 2');
	await page.getByRole('textbox', { name: 'New class name' }).fill('dogs & co');
	await page.getByRole('button', { name: 'Add class' }).click();
	await expect(page.getByTestId('class-card')).toHaveCount(3);
	await card(page, 2).getByLabel('Add images to dogs & co').setInputFiles(pngFiles(2, 'dog', BLUE));
	await expect(card(page, 2).getByTestId('class-count')).toContainText('2 images');
	await card(page, 2).getByRole('button', { name: 'Remove class dogs & co' }).click();
	const ask = page.getByRole('alertdialog', { name: 'Remove class dogs & co?' });
	await expect(ask).toContainText('and its 2 images?');
	await ask.getByRole('button', { name: 'Keep' }).click();
	await expect(page.getByTestId('class-card')).toHaveCount(3);
	await card(page, 2).getByRole('button', { name: 'Remove class dogs & co' }).click();
	await page.getByRole('alertdialog').getByRole('button', { name: 'Remove' }).click();
	await expect(page.getByTestId('class-card')).toHaveCount(2);
	await expect(page.getByTestId('class-summary')).toHaveText('2 classes · 0 images');
	await page.reload();
	await page.getByRole('navigation', { name: 'Contents' }).getByRole('link', { name: 'Your classes and images' }).click();
	await expect(page.getByRole('textbox', { name: 'Name of class 1' })).toHaveValue(markup);
	expect(await page.evaluate(() => window.__pwned)).toBeUndefined();
});

test('hostile files are listed by name with a reason, the good ones kept; reload keeps all; move and remove', async ({ page, lesson }) => {
	await openStudio(page, lesson);
	const good = pngFiles(5, 'red', RED);
	const j = jpeg();
	const hostile = [
		{ name: '<img src=x onerror=alert(1)>.png', mimeType: 'image/png', buffer: Buffer.from('just text, renamed .png') },
		{ name: 'empty.png', mimeType: 'image/png', buffer: Buffer.alloc(0) },
		{ name: 'huge.png', mimeType: 'image/png', buffer: pngHeaderOnly(50000, 50000) },
		{ name: 'cut.jpg', mimeType: 'image/jpeg', buffer: j.subarray(0, Math.floor(j.length * 0.6)) },
		{ name: 'again.png', mimeType: 'image/png', buffer: good[0].buffer },
	];
	await card(page, 0).getByLabel('Add images to Class 1').setInputFiles([...good, { name: 'photo.jpg', mimeType: 'image/jpeg', buffer: j }, ...hostile]);
	const report = page.getByTestId('intake-report');
	await expect(report).toContainText('6 images added to Class 1; 5 files were not added:');
	const rows = report.getByTestId('rejected');
	await expect(rows).toHaveCount(5);
	await expect(rows.nth(0)).toHaveText(/^<img src=x onerror=alert\(1\)>\.png: not an image/);
	await expect(rows.nth(1)).toHaveText('empty.png: the file is empty (0 bytes)');
	await expect(rows.nth(2)).toHaveText('huge.png: 50,000×50,000 pixels is over the limit of 40 megapixels (refused before decoding)');
	await expect(rows.nth(3)).toHaveText('cut.jpg: the JPEG is truncated (it has no end-of-image marker)');
	await expect(rows.nth(4)).toHaveText('again.png: the same image is already in this class (skipped)');
	await expect(page.locator('.studio img[src="x"]')).toHaveCount(0);
	await card(page, 1).getByLabel('Add images to Class 2').setInputFiles(pngFiles(3, 'green', GREEN));
	await expect(page.getByTestId('class-summary')).toHaveText('2 classes · 9 images');
	// default split: 20 % per class, rounded: 1 of 6 and 1 of 3
	await expect(page.getByTestId('split-summary')).toHaveText('7 for training · 2 for validation');
	await expect(page.locator('[data-testid=thumb][data-split=val]')).toHaveCount(2);

	const thumb = card(page, 0).getByTestId('thumb').first();
	const moved = await thumb.getAttribute('data-image-id');
	const movedName = await thumb.locator('img').getAttribute('alt');
	await thumb.getByRole('combobox', { name: `Move ${movedName} to class` }).selectOption({ label: 'Class 2' });
	await expect(card(page, 1).locator(`[data-image-id="${moved}"]`)).toHaveCount(1);
	await expect(card(page, 0).getByTestId('class-count')).toContainText('5 images');
	await card(page, 0).getByRole('button', { name: 'Remove red-0002.png' }).click();
	await expect(card(page, 0).getByTestId('class-count')).toContainText('4 images');

	await page.reload();
	await page.getByRole('navigation', { name: 'Contents' }).getByRole('link', { name: 'Your classes and images' }).click();
	await expect(page.getByTestId('class-summary')).toHaveText('2 classes · 8 images');
	await expect(card(page, 0).getByTestId('class-count')).toContainText('4 images');
	await expect(card(page, 1).getByTestId('class-count')).toContainText('4 images');
	await expect(card(page, 1).locator(`[data-image-id="${moved}"] img`)).toHaveAttribute('src', /^blob:/);
	const ids = await page.evaluate(() => window.gradboxStudio.images().map((m) => [m.name, m.width, m.height]));
	expect(ids).toContainEqual(['photo.jpg', 64, 48]);
	expect(ids).toContainEqual(['red-0001.png', 24, 24]);
	expect(ids.map((x) => x[0])).not.toContain('red-0002.png');
});

test('drops: loose files into a class, and an ImageFolder tree that fills the classes', async ({ page, lesson }) => {
	await openStudio(page, lesson);
	const files = { 'loose-a.png': png(20, 20, RED, BLUE, 1), 'loose-b.png': png(20, 20, RED, BLUE, 2) };
	const tree = {
		'data/cats/c1.png': png(20, 20, BLUE, RED, 1), 'data/cats/c2.png': png(20, 20, BLUE, RED, 2),
		'data/dogs/d1.png': png(20, 20, GREEN, RED, 1), 'data/dogs/sub/d2.png': png(20, 20, GREEN, RED, 2),
		'data/dogs/notes.txt': Buffer.from('not an image'),
	};
	const asB64 = (o) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, v.toString('base64')]));
	// NOTE: Playwright cannot drag real folders, and a DataTransfer made in the page has no
	// FileSystemEntry objects, so the tree is handed over through webkitGetAsEntry stand-ins
	// that follow the File and Directory Entries API (isFile/isDirectory, file(), createReader).
	await page.evaluate(({ loose, tree }) => {
		const file = (path, b64) => new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], path.split('/').pop(), { type: path.endsWith('.png') ? 'image/png' : 'text/plain' });
		const dirEntry = (prefix, name) => ({
			isFile: false, isDirectory: true, name,
			createReader() {
				let done = false;
				return {
					readEntries(ok) {
						if (done) return ok([]);
						done = true;
						const names = new Set(Object.keys(tree).filter((p) => p.startsWith(`${prefix}/`)).map((p) => p.slice(prefix.length + 1).split('/')[0]));
						ok([...names].map((n) => (tree[`${prefix}/${n}`] ? fileEntry(`${prefix}/${n}`) : dirEntry(`${prefix}/${n}`, n))));
					},
				};
			},
		});
		const fileEntry = (path) => ({ isFile: true, isDirectory: false, name: path.split('/').pop(), file: (ok) => ok(file(path, tree[path])) });
		const drop = (target, dt) => target.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
		const dt = new DataTransfer();
		for (const [n, b] of Object.entries(loose)) dt.items.add(file(n, b));
		drop(document.querySelectorAll('[data-testid=class-card]')[1], dt);
		window.__dropTree = () => {
			const t = new DataTransfer();
			t.items.add(new File(['x'], 'data'));
			const proto = Object.getPrototypeOf(t.items[0]);
			const orig = proto.webkitGetAsEntry;
			proto.webkitGetAsEntry = function () { proto.webkitGetAsEntry = orig; return dirEntry('data', 'data'); };
			drop(document.querySelector('[data-testid=folder-drop]'), t);
		};
	}, { loose: asB64(files), tree: asB64(tree) });
	await expect(page.getByTestId('intake-report')).toContainText('2 images added to Class 2.');
	await expect(card(page, 1).getByTestId('class-count')).toContainText('2 images');
	await page.evaluate(() => window.__dropTree());
	await expect(page.getByTestId('intake-report')).toContainText('4 images added to 2 folders (one class each); 1 file was not added:');
	await expect(page.getByTestId('rejected')).toHaveText(/^dogs\/notes\.txt: not an image/);
	await expect(page.getByTestId('class-card')).toHaveCount(4);
	await expect(page.getByRole('textbox', { name: 'Name of class 3' })).toHaveValue('cats');
	await expect(page.getByRole('textbox', { name: 'Name of class 4' })).toHaveValue('dogs');
	await expect(card(page, 3).getByTestId('class-count')).toContainText('2 images');
});

test('paste adds to the class last used', async ({ page, lesson }) => {
	await openStudio(page, lesson);
	await card(page, 1).getByRole('button', { name: /Hold to record/ }).focus();
	await page.evaluate((b64) => {
		const dt = new DataTransfer();
		dt.items.add(new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], 'image.png', { type: 'image/png' }));
		document.activeElement.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
	}, png(30, 30, GREEN, RED, 3).toString('base64'));
	await expect(card(page, 1).getByTestId('class-count')).toContainText('1 image');
	await expect(card(page, 0).getByTestId('class-count')).toContainText('0 images');
	await expect(page.getByTestId('intake-report')).toContainText('1 image added to Class 2.');
});
