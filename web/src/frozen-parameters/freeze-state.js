// The freeze state as data: which parameters require grad, derived from the
// engine's module tree, and the PyTorch code that produces it. No DOM here
// (tests/node/freeze-code.test.mjs runs it under Node).

/**
 * Every parameter in named_parameters() order: { name, numel, requiresGrad,
 * gradNorm (‖.grad‖₂, null when .grad is None), module }.
 */
export function parameters(tree) {
	const out = [];
	const walk = (m) => {
		for (const p of m.parameters) out.push({ name: p.name, numel: p.numel, requiresGrad: p.requires_grad, gradNorm: p.grad_norm, module: m.path });
		m.children.forEach(walk);
	};
	walk(tree);
	return out;
}

/** Whether `name` is the module `path` or inside it ('' is the whole model). */
export const under = (name, path) => path === '' || name === path || name.startsWith(`${path}.`);

/** The names of the parameters that require grad. */
export const trainableNames = (tree) => parameters(tree).filter((p) => p.requiresGrad).map((p) => p.name);

/** The trainable names after `for p in <path>.parameters(): p.requires_grad = on` (path: a module or a parameter). */
export function toggled(tree, path, on) {
	return parameters(tree)
		.filter((p) => (under(p.name, path) ? on : p.requiresGrad))
		.map((p) => p.name);
}

/** Presets: the tutorial's (null: every parameter frozen, the new fc trains), fc + layer4, everything. */
export function presetNames(tree, preset) {
	if (preset === 'tutorial') return null;
	if (preset === 'layer4') return parameters(tree).filter((p) => under(p.name, 'layer4') || under(p.name, 'fc')).map((p) => p.name);
	if (preset === 'all') return parameters(tree).map((p) => p.name);
	throw new Error(`unknown preset ${preset}`);
}

/** Which preset the state is, or null. */
export function presetOf(tree) {
	for (const preset of ['tutorial', 'layer4', 'all']) {
		const names = presetNames(tree, preset) ?? parameters(tree).filter((p) => under(p.name, 'fc')).map((p) => p.name);
		const on = new Set(names);
		if (parameters(tree).every((p) => p.requiresGrad === on.has(p.name))) return preset;
	}
	return null;
}

/** 'layer4.1.conv1' → 'model.layer4[1].conv1' (Sequential children are indexed). */
export function pyPath(path) {
	if (path === '') return 'model';
	return `model${path.split('.').map((part) => (/^\d+$/.test(part) ? `[${part}]` : `.${part}`)).join('')}`;
}

/** 'on' | 'off' | 'mixed' for a module. */
export function moduleState(m) {
	if (m.num_params === 0) return 'none';
	if (m.trainable_params === 0) return 'off';
	return m.trainable_params === m.num_params ? 'on' : 'mixed';
}

/**
 * The PyTorch lines that take the tutorial's model (every parameter frozen,
 * then a new fc, which requires grad) to the current state: the fewest
 * module-level loops, parameter lines only where a module is mixed.
 * @returns {string[]}
 */
export function freezeCode(tree) {
	const lines = [];
	const fcOnly = (m) => m.path === 'fc' || m.path.startsWith('fc.');
	const baseline = (m) => fcOnly(m);   // what the tutorial's cells leave trainable
	const cover = (m) => {
		const state = moduleState(m);
		if (state === 'none') return;
		const want = state === 'on';
		if (state !== 'mixed') {
			// whole module one way: one loop, unless the tutorial already left it so
			if (want !== baseline(m)) {
				lines.push(m.path === '' ? `for param in model.parameters():\n    param.requires_grad = ${want ? 'True' : 'False'}` :
					`for p in ${pyPath(m.path)}.parameters():\n    p.requires_grad = ${want ? 'True' : 'False'}`);
			}
			return;
		}
		for (const p of m.parameters) {
			if (p.requires_grad !== baseline(m)) lines.push(`${pyPath(p.name)}.requires_grad = ${p.requires_grad ? 'True' : 'False'}`);
		}
		m.children.forEach(cover);
	};
	if (moduleState(tree) === 'on') return ['for param in model.parameters():\n    param.requires_grad = True'];
	tree.children.forEach(cover);
	return lines;
}

/** "trainable parameters: 5,130 of 11,181,642 (0.05 %)" */
export function totalsText(tree) {
	const pct = (100 * tree.trainable_params) / tree.num_params;
	const fmt = (n) => n.toLocaleString('en-US');
	return `trainable parameters: ${fmt(tree.trainable_params)} of ${fmt(tree.num_params)} (${pct.toFixed(2)} %)`;
}
