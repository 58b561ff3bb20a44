// The semantics cells, each a small program in the engine, show PyTorch's
// own results and error texts; the switches change the code and the result.
import { test, expect, expectText } from './fixtures.mjs';

const SECOND = 'Trying to backward through the graph a second time (or directly access saved tensors after they have already been freed)';

test('a second backward without retain_graph raises PyTorch’s error; with it grads accumulate', async ({ page, lesson }) => {
	await lesson.open();
	const cell = page.getByTestId('cell-twice');
	await expect(cell.getByTestId('cell-twice-out')).toContainText(SECOND);
	await expect(cell.getByTestId('cell-twice-out')).toContainText('Specify retain_graph=True');
	await cell.locator('label.code-switch').click();
	await expectText(cell.getByTestId('cell-twice-out'), 'tensor([ 72., 162.])');
	await expect(cell.locator('.cell-code')).toContainText('retain_graph=True');
});

test('a.grad.zero_() resets the accumulated gradient', async ({ page, lesson }) => {
	await lesson.open();
	const out = page.getByTestId('cell-zero-out');
	await expectText(out, 'tensor([36., 81.])');
	await page.getByTestId('cell-zero').locator('label.code-switch').click();
	await expectText(out, 'tensor([ 72., 162.])');
	await expect(page.getByTestId('cell-zero').locator('.cell-code')).toContainText('# a.grad.zero_()');
});

test('Q.backward() without gradient on a vector Q raises; a scalar Q does not need it', async ({ page, lesson }) => {
	await lesson.open();
	const out = page.getByTestId('cell-implicit-out');
	await expect(out).toContainText('grad can be implicitly created only for scalar outputs');
	await page.getByTestId('cell-implicit').locator('label.code-switch').click();
	await expectText(out, 'tensor([36., 81.])');
	await page.getByTestId('cell-implicit').locator('label.code-switch').click();
	await page.getByTestId('input-q').fill('(3*a**3 - b**2).sum()');
	await page.getByTestId('input-v').fill('1.');
	await expectText(out, 'tensor([36., 81.])');
});

test('b with requires_grad=False drops out of the graph and keeps grad None', async ({ page, lesson }) => {
	await lesson.open();
	const cell = page.getByTestId('cell-frozen');
	await expectText(page.getByTestId('cell-frozen-out'), 'tensor([36., 81.]) None');
	const names = await cell.locator('.graph-node').evaluateAll((els) => els.map((e) => e.dataset.name).sort());
	expect(names).toEqual(['AccumulateGrad', 'MulBackward0', 'PowBackward0', 'SubBackward0']);
	await cell.locator('label.code-switch').click();
	await expectText(page.getByTestId('cell-frozen-out'), 'tensor([36., 81.]) tensor([-12.,  -8.])');
	await expect(cell.locator('.graph-node')).toHaveCount(6);
});

test('under torch.no_grad() Q has no grad_fn', async ({ page, lesson }) => {
	await lesson.open();
	const out = page.getByTestId('cell-nograd-out');
	await expectText(out, 'tensor([-12.,  65.])\nFalse');
	await page.getByTestId('cell-nograd').locator('label.code-switch').click();
	await expectText(out, 'tensor([-12.,  65.], grad_fn=<SubBackward0>)\nTrue');
});

test('focusing a node with the keyboard shows what it saved and its local derivative', async ({ page, lesson }) => {
	await lesson.open();
	const node = page.locator('[data-testid="graph"] .graph-node[data-name="PowBackward0"][data-label="a**3"]');
	await node.focus();
	await expect(node).toBeFocused();
	await page.keyboard.press('Enter');
	const details = page.getByTestId('node-details');
	await expect(details).toContainText('PowBackward0');
	await expect(page.getByTestId('node-local')).toContainText('3·a²');
	await expect(page.getByTestId('node-saved')).toContainText('_saved_exponent');
	await expect(page.getByTestId('node-saved')).toContainText('_saved_self');
	await expect(page.getByTestId('node-freed')).toContainText('Freed');
	// Tab reaches the nodes in order
	await page.keyboard.press('Tab');
	await expect(page.locator('[data-testid="graph"] .graph-node:focus')).toHaveCount(1);
});

test('analytic and finite-difference checks pass, and follow edits', async ({ page, lesson }) => {
	await lesson.open();
	await expectText(page.getByTestId('analytic-a'), 'pass');
	await expectText(page.getByTestId('analytic-b'), 'pass');
	await expectText(page.getByTestId('gradcheck-verdict'), 'pass');
	const diff = Number((await page.getByTestId('gradcheck-diff').innerText()).replace('−', '-'));
	expect(diff).toBeGreaterThanOrEqual(0);
	expect(diff).toBeLessThan(0.05);
	await page.getByTestId('input-q').fill('a*b + torch.sin(a)');
	await expect(page.getByTestId('analytic-na')).toBeVisible();
	await expectText(page.getByTestId('gradcheck-verdict'), 'pass');
});

test('the vector–Jacobian panel shows diagonal J, v and Jᵀv, live with v', async ({ page, lesson }) => {
	await lesson.open();
	const cells = (id) => page.getByTestId(id).locator('.matrix-grid > span').allInnerTexts();
	await expect.poll(() => cells('jacobian-a')).toEqual(['36', '0', '0', '81']);
	await expect.poll(() => cells('jacobian-b')).toEqual(['−12', '0', '0', '−8']);
	await expect.poll(() => cells('jtv-a')).toEqual(['36', '81']);
	await page.getByTestId('input-v-vjp').fill('[2., 0.5]');
	await expect.poll(() => cells('jtv-a')).toEqual(['72', '40.5']);
	await expect(page.getByTestId('input-v')).toHaveValue('[2., 0.5]');
	await expectText(page.getByTestId('print-a'), 'tensor([False, False]) tensor([72.0000, 40.5000])');
});
