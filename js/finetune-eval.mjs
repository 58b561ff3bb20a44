// finetune-eval.mjs: what the training loop measures (loss and accuracy of a batch of logits) and
// the evaluation of a trained model: per-class accuracy, the confusion matrix, each image's
// prediction, the most confidently wrong. Re-exported by js/finetune.mjs.
// Guarded by tests/node/finetune-loop.test.mjs (on a fake model) and
// tests/resnet/finetune-cli.test.mjs (the CLI's summary against PyTorch's logits).

/** Softmax of one row of logits, in double, the maximum subtracted first. */
export function softmax(row) {
	let max = -Infinity;
	for (const v of row) if (v > max) max = v;
	const e = Array.from(row, (v) => Math.exp(v - max));
	const sum = e.reduce((a, b) => a + b, 0);
	return e.map((v) => v / sum);
}

/** The index of the largest value; ties go to the lower index (torch.argmax's rule). */
export function argmax(row) {
	let best = 0;
	for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
	return best;
}

/**
 * F.cross_entropy(logits, targets, reduction='sum') (in double) and the number of correct
 * argmax predictions, for N rows of `classes` logits.
 * @returns {{ lossSum: number, correct: number }}
 */
export function scoreLogits(logits, targets, classes) {
	let lossSum = 0, correct = 0;
	for (let n = 0; n < targets.length; n++) {
		const row = logits.subarray(n * classes, (n + 1) * classes);
		let max = -Infinity;
		for (const v of row) if (v > max) max = v;
		let s = 0;
		for (const v of row) s += Math.exp(v - max);
		lossSum += max + Math.log(s) - row[targets[n]];
		if (argmax(row) === targets[n]) correct++;
	}
	return { lossSum, correct };
}

/**
 * The logits of `items` in eval mode, batch by batch: from cached features through fc when
 * `cache` is given ({ feats(start, end) → Float32Array of items start..end-1, N×512 }), else
 * model.forward on the inputs.
 * @returns {Promise<Float32Array>} items.length × numClasses
 */
export async function logitsOf({ model, items, numClasses, batchSize = 16, cache = null, signal }) {
	const out = new Float32Array(items.length * numClasses);
	for (let b = 0; b < items.length; b += batchSize) {
		if (signal?.aborted) throw signal.reason ?? new Error('stopped');
		const part = items.slice(b, b + batchSize);
		let logits;
		if (cache) logits = model.headForward(await cache.feats(b, b + part.length), part.length, numClasses);
		else {
			const x = await stackInputs(part, () => ({}));
			logits = model.forward(x, [part.length, 3, 224, 224], numClasses);
		}
		out.set(logits, b * numClasses);
	}
	return out;
}

/** The inputs of a batch of items, one after another: Float32Array(N·3·224·224). */
export async function stackInputs(items, args) {
	const one = 3 * 224 * 224;
	const x = new Float32Array(items.length * one);
	for (let i = 0; i < items.length; i++) {
		const t = await items[i].input(args(i));
		if (!(t instanceof Float32Array) || t.length !== one) throw new Error(`image ${items[i].name ?? i}: the input is not 3×224×224 floats`);
		x.set(t, i * one);
	}
	return x;
}

/**
 * The evaluation of logits against the items' labels.
 * @param {Float32Array} logits items.length × numClasses
 * @param {{ label: number }[]} items
 * @returns {{ perClass: {correct: number, total: number}[], confusion: number[][],
 *   predictions: {index: number, label: number, predicted: number, p: number, probs: number[]}[],
 *   confidentWrong: {index: number, label: number, predicted: number, p: number}[], accuracy: number }}
 *   confusion[true][predicted]; p is the probability of the predicted class; confidentWrong holds
 *   the (at most) 10 wrong predictions with the highest p, highest first.
 */
export function evaluateLogits(logits, items, numClasses) {
	const perClass = Array.from({ length: numClasses }, () => ({ correct: 0, total: 0 }));
	const confusion = Array.from({ length: numClasses }, () => new Array(numClasses).fill(0));
	const predictions = items.map((it, index) => {
		const probs = softmax(logits.subarray(index * numClasses, (index + 1) * numClasses));
		const predicted = argmax(probs);
		perClass[it.label].total++;
		if (predicted === it.label) perClass[it.label].correct++;
		confusion[it.label][predicted]++;
		return { index, label: it.label, predicted, p: probs[predicted], probs };
	});
	const confidentWrong = predictions.filter((p) => p.predicted !== p.label)
		.sort((a, b) => b.p - a.p || a.index - b.index).slice(0, 10)
		.map(({ index, label, predicted, p }) => ({ index, label, predicted, p }));
	const correct = perClass.reduce((a, c) => a + c.correct, 0);
	return { perClass, confusion, predictions, confidentWrong, accuracy: items.length ? correct / items.length : NaN };
}
