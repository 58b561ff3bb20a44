// The autograd lesson: the tutorial's printouts, the graph, live edits and
// error handling.
import { test, expect, expectText, DEFAULT_Q, PRINT_A, PRINT_B } from './fixtures.mjs';

const nodeNames = (page) =>
	page.getByTestId('graph').locator('.graph-node').evaluateAll((els) => els.map((e) => e.dataset.name));

test('the default page prints exactly what PyTorch prints', async ({ page, lesson }) => {
	await lesson.open();
	await expectText(page.getByTestId('out-q'), DEFAULT_Q);
	await expectText(page.getByTestId('print-a'), PRINT_A);
	await expectText(page.getByTestId('print-b'), PRINT_B);
	await expect(page.getByTestId('input-a')).toHaveValue('[2., 3.]');
	await expect(page.getByTestId('input-b')).toHaveValue('[6., 4.]');
	await expect(page.getByTestId('input-v')).toHaveValue('[1., 1.]');
	await expect(page.getByTestId('input-q')).toHaveValue('3*a**3 - b**2');
});

test('the graph has the six torchviz nodes, Q’s node on top, edges toward the leaves', async ({ page, lesson }) => {
	await lesson.open();
	const graph = page.getByTestId('graph');
	await expect(graph.locator('.graph-node')).toHaveCount(6);
	expect((await nodeNames(page)).sort()).toEqual(
		['AccumulateGrad', 'AccumulateGrad', 'MulBackward0', 'PowBackward0', 'PowBackward0', 'SubBackward0'],
	);
	const leaves = await graph.locator('.graph-node[data-name="AccumulateGrad"]').evaluateAll((els) => els.map((e) => e.dataset.label).sort());
	expect(leaves).toEqual(['a', 'b']);
	await expect(graph.locator('.graph-edge')).toHaveCount(5 + 1); // five edges + the arrow from the Q tag
	const ys = await graph.locator('.graph-node').evaluateAll((els) =>
		els.map((e) => ({ name: e.dataset.name, y: e.getBoundingClientRect().top })),
	);
	const top = ys.reduce((m, n) => (n.y < m.y ? n : m));
	expect(top.name).toBe('SubBackward0');
	const leafY = ys.filter((n) => n.name === 'AccumulateGrad').map((n) => n.y);
	for (const n of ys.filter((n) => n.name !== 'AccumulateGrad')) expect(n.y).toBeLessThan(Math.max(...leafY));
	// each node shows its value and the gradient that flowed into it
	const sub = graph.locator('.graph-node[data-name="SubBackward0"]');
	await expect(sub).toContainText('value [−12, 65]');
	await expect(sub).toContainText('grad  [1, 1]');
	await expect(graph.locator('.graph-node[data-label="a"]')).toContainText('grad  [36, 81]');
});

test('editing a recomputes the gradients and is kept in the URL', async ({ page, lesson }) => {
	await lesson.open();
	await page.getByTestId('input-a').fill('[1., 2.]');
	await expectText(page.getByTestId('print-a'), 'tensor([True, True]) tensor([ 9., 36.])');
	await expectText(page.getByTestId('out-q'), 'tensor([-33.,   8.], grad_fn=<SubBackward0>)');
	await expect.poll(() => page.evaluate(() => decodeURIComponent(location.hash))).toContain('a=[1., 2.]');
	await page.reload();
	await expect(page.getByTestId('input-a')).toHaveValue('[1., 2.]');
	await expectText(page.getByTestId('print-a'), 'tensor([True, True]) tensor([ 9., 36.])');
});

test('a link with edits in the hash reproduces them', async ({ page, lesson }) => {
	const hash = `#${new URLSearchParams({ b: '[1., 2.]', v: '[2., 1.]', q: 'a*b' }).toString()}`;
	await lesson.open({ hash });
	await expect(page.getByTestId('input-q')).toHaveValue('a*b');
	await expectText(page.getByTestId('out-q'), 'tensor([2., 6.], grad_fn=<MulBackward0>)');
	// a.grad = v * b = [2., 2.], b.grad = v * a = [4., 3.]
	await expect(page.getByTestId('print-a')).toContainText('tensor([2., 2.])');
	await expect(page.getByTestId('print-b')).toContainText('tensor([4., 3.])');
});

test('a bad expression shows the error with a caret and keeps the last good graph', async ({ page, lesson }) => {
	await lesson.open();
	await page.getByTestId('input-q').fill('3*a**3 - b**');
	const err = page.getByTestId('error-q');
	await expect(err).toBeVisible();
	const text = await err.innerText();
	const lines = text.split('\n');
	expect(lines[0]).toContain('Q = 3*a**3 - b**');
	const caretCol = lines[1].indexOf('^');
	expect(caretCol).toBeGreaterThan(lines[0].indexOf('b**'));
	expect(lines.slice(2).join(' ').length).toBeGreaterThan(5); // the engine's message
	await expect(page.getByTestId('graph').locator('.graph-node')).toHaveCount(6);
	await expect(page.locator('.graph-section')).toHaveAttribute('data-stale', 'true');
	await expectText(page.getByTestId('out-q'), DEFAULT_Q);
	await expectText(page.getByTestId('print-a'), PRINT_A);
	// fixing it clears the error
	await page.getByTestId('input-q').fill('3*a**3 - b**3');
	await expect(err).toBeHidden();
	await expect(page.locator('.graph-section')).toHaveAttribute('data-stale', 'false');
	await expectText(page.getByTestId('print-b'), 'tensor([False, False]) tensor([-108.,  -48.])');
});

test('a bad list literal shows a readable error and keeps the outputs', async ({ page, lesson }) => {
	await lesson.open();
	await page.getByTestId('input-b').fill('[6., 4.');
	await expect(page.getByTestId('error-b')).toContainText('never closed');
	await expect(page.getByTestId('input-b')).toHaveAttribute('aria-invalid', 'true');
	await expectText(page.getByTestId('print-b'), PRINT_B);
	await page.getByTestId('input-b').fill('[[6., 4.], [1.]]');
	await expect(page.getByTestId('error-b')).toContainText('expected sequence of length 2 at dim 1 (got 1)');
});

test('2-D and 0-d tensors parse like Python', async ({ page, lesson }) => {
	await lesson.open();
	await page.getByTestId('input-q').fill('a*a');
	await page.getByTestId('input-a').fill('[[1., 2.], [3., 4.]]');
	await page.getByTestId('input-v').fill('[[1., 1.], [1., 1.]]');
	await expectText(page.getByTestId('out-q'), 'tensor([[ 1.,  4.],\n        [ 9., 16.]], grad_fn=<MulBackward0>)');
	await page.getByTestId('input-a').fill('5.');
	await page.getByTestId('input-v').fill('1.');
	await expectText(page.getByTestId('out-q'), 'tensor(25., grad_fn=<MulBackward0>)');
});

test('an external gradient of the wrong shape shows PyTorch’s error and keeps the outputs', async ({ page, lesson }) => {
	await lesson.open();
	await page.getByTestId('input-v').fill('[1., 1., 1.]');
	await expect(page.getByTestId('error-v')).toContainText('Mismatch in shape');
	await expect(page.getByTestId('error-v-vjp')).toContainText('Mismatch in shape');
	await expect(page.locator('.graph-section')).toHaveAttribute('data-stale', 'true');
	await expectText(page.getByTestId('print-a'), PRINT_A);
});

test('reset puts the tutorial’s values back', async ({ page, lesson }) => {
	await lesson.open({ hash: '#a=%5B1.%2C%202.%5D' });
	await expectText(page.getByTestId('print-a'), 'tensor([True, True]) tensor([ 9., 36.])');
	await page.getByTestId('reset').click();
	await expect(page.getByTestId('input-a')).toHaveValue('[2., 3.]');
	await expectText(page.getByTestId('print-a'), PRINT_A);
	await expect(page.getByTestId('reset')).toBeHidden();
	await expect.poll(() => page.evaluate(() => location.hash)).toBe('');
});

test('a Q that does not use b leaves b.grad None, printed the way Python prints it', async ({ page, lesson }) => {
	await lesson.open();
	await page.getByTestId('input-q').fill('a**2');
	await expectText(page.getByTestId('out-q'), 'tensor([4., 9.], grad_fn=<PowBackward0>)');
	await expectText(page.getByTestId('print-a'), 'tensor([False, False]) tensor([4., 6.])');
	await expectText(page.getByTestId('print-b'), 'False None');
	await expect(page.getByTestId('graph').locator('.graph-node')).toHaveCount(2);
});
