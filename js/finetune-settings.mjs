// finetune-settings.mjs: a fine-tuning run's settings with PyTorch's meaning and defaults, their
// checks, and the held-out split. Shared by the page (main thread and worker) and the command
// line, so both train on the same images with the same settings (docs/fine-tuning.md).
// Guarded by tests/node/finetune-settings.test.mjs.

/** What each setting means in PyTorch, and its default (torch.optim.SGD / Adam, DataLoader). */
export const DEFAULT_SETTINGS = Object.freeze({
	epochs: 5,                 // passes over the training images
	batchSize: 16,             // DataLoader(batch_size=...)
	optimizer: 'sgd',          // 'sgd' | 'adam'
	lr: 1e-2,
	momentum: 0.9,             // SGD only
	weightDecay: 0,            // L2 term added to the gradient, both optimizers
	nesterov: false,           // SGD only (needs momentum > 0)
	betas: Object.freeze([0.9, 0.999]),   // Adam only
	eps: 1e-8,                 // Adam only
	seed: 0,                   // DataLoader's generator and the held-out split
	headSeed: 0,               // torch.manual_seed before model.fc = nn.Linear(512, N)
	unfreeze: 'fc',            // what trains: 'fc' | 'layer4,fc' | 'all'
	bnMode: 'eval',            // BatchNorm: 'eval' (running statistics) | 'train' (batch statistics)
	augment: false,            // RandomResizedCrop(224) + RandomHorizontalFlip instead of the crop
	keepWhole: false,          // Resize((224, 224)): the whole picture, squashed, no crop
	valFraction: 0.2,          // held out for validation, per class
});

export const UNFREEZE_CHOICES = Object.freeze(['fc', 'layer4,fc', 'all']);

const RULES = {
	epochs: ['whole', 1, 1000],
	batchSize: ['whole', 1, 256],
	lr: ['number', 0, 1e6],
	momentum: ['number', 0, 1],
	weightDecay: ['number', 0, 1],
	eps: ['number', 0, 1],
	seed: ['whole', 0, Number.MAX_SAFE_INTEGER],
	headSeed: ['whole', 0, Number.MAX_SAFE_INTEGER],
	valFraction: ['number', 0, 0.9],
};

/** A SettingsError names the setting that is wrong (`field`) and says what is allowed. */
export class SettingsError extends Error {
	constructor(field, message) {
		super(`${field}: ${message}`);
		this.name = 'SettingsError';
		this.field = field;
	}
}

function checkRange(field, value, [kind, lo, hi]) {
	const ok = typeof value === 'number' && Number.isFinite(value) && value >= lo && value <= hi
		&& (kind !== 'whole' || Number.isInteger(value));
	if (!ok) {
		const what = kind === 'whole' ? 'a whole number' : 'a number';
		throw new SettingsError(field, `must be ${what} from ${lo} to ${hi}, not ${JSON.stringify(value)}`);
	}
	return value;
}

/**
 * The defaults with `partial` over them, checked. Throws a SettingsError for an unknown name, a
 * value out of range, or a combination torch refuses (nesterov needs momentum > 0).
 */
export function checkSettings(partial = {}) {
	for (const k of Object.keys(partial)) {
		if (!Object.hasOwn(DEFAULT_SETTINGS, k)) throw new SettingsError(k, 'is not a setting');
	}
	const s = { ...DEFAULT_SETTINGS, ...partial };
	for (const [field, rule] of Object.entries(RULES)) checkRange(field, s[field], rule);
	if (s.lr === 0) throw new SettingsError('lr', 'must be above 0');
	if (!['sgd', 'adam'].includes(s.optimizer)) throw new SettingsError('optimizer', `must be 'sgd' or 'adam', not ${JSON.stringify(s.optimizer)}`);
	if (!UNFREEZE_CHOICES.includes(s.unfreeze)) throw new SettingsError('unfreeze', `must be one of ${UNFREEZE_CHOICES.join(' | ')}, not ${JSON.stringify(s.unfreeze)}`);
	if (!['eval', 'train'].includes(s.bnMode)) throw new SettingsError('bnMode', `must be 'eval' or 'train', not ${JSON.stringify(s.bnMode)}`);
	for (const k of ['nesterov', 'augment', 'keepWhole']) {
		if (typeof s[k] !== 'boolean') throw new SettingsError(k, `must be true or false, not ${JSON.stringify(s[k])}`);
	}
	if (!Array.isArray(s.betas) || s.betas.length !== 2) throw new SettingsError('betas', 'must be two numbers');
	s.betas.forEach((b, i) => checkRange(`betas[${i}]`, b, ['number', 0, 0.999999]));
	// torch: "Nesterov momentum requires a momentum and zero dampening"
	if (s.optimizer === 'sgd' && s.nesterov && s.momentum <= 0) throw new SettingsError('nesterov', 'Nesterov momentum requires a momentum above 0');
	return { ...s, betas: [...s.betas] };
}

/**
 * Whether each image's 512-d features can be computed once and reused: only when nothing before
 * fc trains, BatchNorm uses its running statistics and no augmentation changes the input.
 * @returns {{ on: boolean, reason: string | null }} reason says why the cache is off
 */
export function featureCache(s) {
	if (s.unfreeze !== 'fc') return { on: false, reason: `${s.unfreeze === 'all' ? 'every layer' : 'layer4'} trains, so the features change at every step` };
	if (s.bnMode !== 'eval') return { on: false, reason: 'BatchNorm in train mode normalises with each batch\'s statistics, so an image\'s features depend on its batch' };
	if (s.augment) return { on: false, reason: 'augmentation makes a new crop of each image at every epoch' };
	return { on: true, reason: null };
}

// splitmix32: a small seeded generator for the split (the page's main thread has no engine).
function splitmix32(seed) {
	let a = (seed >>> 0) ^ Math.floor(seed / 2 ** 32);
	return () => {
		a = (a + 0x9e3779b9) | 0;
		let z = a;
		z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
		z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
		return ((z ^ (z >>> 16)) >>> 0) / 2 ** 32;
	};
}

/**
 * The held-out split, stratified and seeded: in each class, round(n · valFraction) images go to
 * validation (none when the class has one image, and never all of them), chosen by a Fisher-Yates
 * shuffle of that class's images. Both lists come back in input order, so the training set is an
 * ImageFolder's order (class by class, file by file).
 * @param {number[]} labels class index of each image, in the project's order
 * @returns {{ train: number[], val: number[] }} indices into labels
 */
export function splitStratified(labels, valFraction, seed) {
	checkRange('valFraction', valFraction, RULES.valFraction);
	checkRange('seed', seed, RULES.seed);
	const byClass = new Map();
	labels.forEach((c, i) => {
		if (!byClass.has(c)) byClass.set(c, []);
		byClass.get(c).push(i);
	});
	const isVal = new Uint8Array(labels.length);
	for (const c of [...byClass.keys()].sort((x, y) => x - y)) {
		const idx = byClass.get(c);
		const nVal = idx.length < 2 ? 0 : Math.min(idx.length - 1, Math.round(idx.length * valFraction));
		const rand = splitmix32(seed * 1000003 + c);
		for (let i = idx.length - 1; i > 0; i--) {
			const j = Math.floor(rand() * (i + 1));
			[idx[i], idx[j]] = [idx[j], idx[i]];
		}
		for (let k = 0; k < nVal; k++) isVal[idx[k]] = 1;
	}
	const train = [], val = [];
	labels.forEach((_, i) => (isVal[i] ? val : train).push(i));
	return { train, val };
}
