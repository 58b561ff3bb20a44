// top-k.mjs: the k most likely classes of each image, as the command line's
// `forward --top k` and the page's classifier print them.

/**
 * Each image's k most likely classes: [{index, label, p}], p = softmax(logits)[index]
 * (computed in double, max subtracted first), most likely first; ties keep the lower index.
 * @param {Float32Array} logits (N × classes), row-major
 * @param {number} classes
 * @param {number} k
 * @param {string[] | null} [labels]
 */
export function topK(logits, classes, k, labels = null) {
	const out = [];
	for (let n = 0; n < logits.length / classes; n++) {
		const row = logits.subarray(n * classes, (n + 1) * classes);
		const max = row.reduce((m, v) => (v > m ? v : m), -Infinity);
		const sum = row.reduce((s, v) => s + Math.exp(v - max), 0);
		const order = Array.from(row.keys()).sort((a, b) => row[b] - row[a] || a - b).slice(0, k);
		out.push(order.map((i) => ({ index: i, label: labels ? labels[i] : null, p: Math.exp(row[i] - max) / sum })));
	}
	return out;
}
