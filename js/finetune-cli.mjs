// finetune-cli.mjs: `gradbox finetune`, the page's fine-tuning from the command line: an
// ImageFolder directory in, the trained head or model out, with the same loop (js/finetune.mjs),
// preprocessing (js/preprocess.mjs) and engine as the page. A progress line per epoch on stderr,
// a JSON summary on stdout. Guarded by tests/resnet/finetune-cli.test.mjs.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseOptions } from './cli-args.mjs';
import { loadEngine } from './engine.mjs';
import { SettingsError, checkSettings, featureCache, splitStratified } from './finetune-settings.mjs';
import { finetuneScript } from './finetune-script.mjs';
import { evaluate, prepareModel, train } from './finetune.mjs';
import { decodeImageFile, readImageFolderDir } from './imagefolder-dir.mjs';
import { datasetZip } from './imagefolder.mjs';
import { prepareImage } from './preprocess.mjs';

/** A mistake in the command line: exit status 2. */
export class UsageError extends Error {}

// command-line flag → setting (finetune-settings.mjs); numbers parsed, booleans as switches
const FLAGS = {
	epochs: 'epochs', 'batch-size': 'batchSize', lr: 'lr', momentum: 'momentum', 'weight-decay': 'weightDecay',
	optimizer: 'optimizer', unfreeze: 'unfreeze', bn: 'bnMode', seed: 'seed', 'head-seed': 'headSeed',
	'val-fraction': 'valFraction',
};
const SWITCHES = { nesterov: 'nesterov', 'keep-whole': 'keepWhole', augment: 'augment' };
const TEXT = new Set(['optimizer', 'unfreeze', 'bnMode']);
const flagOf = (field) => `--${Object.entries({ ...FLAGS, ...SWITCHES }).find(([, f]) => f === field.replace(/\[.*/, ''))?.[0] ?? field}`;

export const FINETUNE_USAGE = `  finetune    fine-tune ResNet-18 on an ImageFolder directory, as the page does
          --data DIR               one folder per class (or train/ and val/ with the same classes)
          --weights W              torchvision resnet18 weights (.pth or .safetensors)
          --out FILE               .safetensors or .pth: the head (fc.weight, fc.bias) or, with
                                   --save model, the whole state_dict
          --epochs 5  --batch-size 16  --optimizer sgd|adam  --lr 1e-2  --momentum 0.9
          --weight-decay 0  --nesterov  --unfreeze fc|layer4,fc|all  --bn eval|train
          --seed 0 (data order, split)  --head-seed 0 (torch.manual_seed before the new fc)
          --val-fraction 0.2 (held out per class, without val/)  --keep-whole  --augment
          --script finetune.py     also write the session as a PyTorch script
          --zip dataset.zip        also write the images used (train/ and val/) and the script
          --threads N  --build mt|simd|scalar
          one progress line per epoch on stderr; a JSON summary on stdout (settings, classes,
          history, per-class accuracy, confusion matrix, skipped files with the reason)`;

function settingsFrom(o) {
	const partial = {};
	for (const [flag, field] of Object.entries(FLAGS)) {
		if (o[flag] === undefined) continue;
		const t = o[flag].trim();
		partial[field] = TEXT.has(field) || t === '' || !Number.isFinite(Number(t)) ? o[flag] : Number(t);
	}
	for (const [flag, field] of Object.entries(SWITCHES)) if (o[flag]) partial[field] = true;
	try {
		return checkSettings(partial);
	} catch (e) {
		if (e instanceof SettingsError) throw new UsageError(`${flagOf(e.field)}: ${e.message.slice(e.field.length + 2)}`);
		throw e;
	}
}

/** Decodes every image, listing the ones that fail; returns the good ones with their sizes. */
async function checkImages(list, skipped) {
	const good = [];
	for (const s of list) {
		try {
			const img = await decodeImageFile(s.path);
			good.push({ ...s, width: img.width, height: img.height, sha256: createHash('sha256').update(img.bytes).digest('hex') });
		} catch (e) {
			skipped.push({ name: s.name, reason: e.message });
		}
	}
	return good;
}

const format = (file) => (file.endsWith('.safetensors') ? 'safetensors' : file.endsWith('.pth') ? 'pth' : null);

function epochLine(e, epochs) {
	const f = (v, d) => (v == null ? '-' : v.toFixed(d));
	return `epoch ${e.epoch}/${epochs}: train loss ${f(e.trainLoss, 4)} acc ${f(e.trainAcc, 3)}   val loss ${f(e.valLoss, 4)} acc ${f(e.valAcc, 3)}   (${(e.ms / 1000).toFixed(1)} s)\n`;
}

/** Runs `gradbox finetune ARGS`; returns the exit status (throws UsageError for status 2). */
export async function finetuneCommand(args, { stdout = process.stdout, stderr = process.stderr } = {}) {
	if (args.includes('--help') || args.includes('-h')) {
		stdout.write(`usage: gradbox finetune --data DIR --weights W --out FILE [options]\n\n${FINETUNE_USAGE}\n`);
		return 0;
	}
	const { values: o } = parseOptions({
		args,
		options: {
			data: { type: 'string' }, weights: { type: 'string' }, out: { type: 'string' },
			save: { type: 'string', default: 'head' }, script: { type: 'string' }, zip: { type: 'string' },
			threads: { type: 'string' }, build: { type: 'string', default: 'auto' },
			...Object.fromEntries(Object.keys(FLAGS).map((k) => [k, { type: 'string' }])),
			...Object.fromEntries(Object.keys(SWITCHES).map((k) => [k, { type: 'boolean' }])),
		},
	});
	if (!o.data || !o.weights || !o.out) throw new UsageError('finetune: --data, --weights and --out are required');
	if (!format(o.out)) throw new UsageError(`--out: '${o.out}' must end in .safetensors or .pth`);
	if (o.save !== 'head' && o.save !== 'model') throw new UsageError(`--save: 'head' or 'model', not '${o.save}'`);
	const settings = settingsFrom(o);
	let weights;
	try { weights = readFileSync(o.weights); } catch (e) { throw new UsageError(`cannot read the weights '${o.weights}': ${e.code ?? e.message}`); }
	const ds = readImageFolderDir(o.data);   // throws a message for a missing dir, < 2 classes, an empty class
	const skipped = [...ds.skipped];
	let trainList = await checkImages(ds.train, skipped);
	let valList = ds.val ? await checkImages(ds.val, skipped) : null;
	for (const e of skipped) stderr.write(`skipped ${e.name}: ${e.reason}\n`);
	const empty = ds.classes.filter((_, k) => !trainList.some((s) => s.label === k));
	if (empty.length) throw new Error(`no usable training image in class ${empty.map((c) => `'${c}'`).join(', ')}`);
	if (!valList) {
		const all = trainList;
		const split = splitStratified(all.map((s) => s.label), settings.valFraction, settings.seed);
		trainList = split.train.map((i) => all[i]);
		valList = split.val.map((i) => all[i]);
	}
	const prep = `${settings.keepWhole ? 'whole224' : 'resize256-crop224'}`;
	const item = (eng) => (s) => ({
		label: s.label, name: s.name, featureKey: `${s.sha256}/${prep}`,
		input: async ({ rng } = {}) => {
			const img = await decodeImageFile(s.path);
			// a training step passes rng when augmenting; validation and evaluation never do
			return prepareImage(eng, img.rgb, img.width, img.height, { channels: 3, keepWhole: settings.keepWhole, augment: settings.augment && !!rng, rng });
		},
	});
	const threads = o.threads === undefined ? undefined : Number(o.threads);
	const eng = await loadEngine({ build: o.build, threads });
	const t0 = Date.now();
	try {
		const model = eng.model(1000, 0);
		try { model.load(weights); } catch (e) { throw new Error(`the weights '${o.weights}' do not load into resnet18: ${e.message}`); }
		prepareModel(model, settings, ds.classes.length);
		const cache = featureCache(settings);
		stderr.write(`${ds.classes.length} classes, ${trainList.length} training and ${valList.length} validation images; features cache ${cache.on ? 'on' : `off (${cache.reason})`}\n`);
		const features = new Map();
		const ctl = new AbortController();
		const onSigint = () => ctl.abort();
		process.once('SIGINT', onSigint);
		const trainItems = trainList.map(item(eng)), valItems = valList.map(item(eng));
		const r = await train({
			engine: eng, model, settings, numClasses: ds.classes.length, train: trainItems, val: valItems, features, signal: ctl.signal,
			onEvent: (e) => {
				if (e.type === 'epoch') stderr.write(epochLine(e, settings.epochs));
				if (e.type === 'features' && e.done === e.total) stderr.write(`features: ${e.done} / ${e.total}\n`);
			},
		});
		process.off('SIGINT', onSigint);
		if (r.message) stderr.write(`${r.message}\n`);
		const ev = await evaluate({ model, settings, numClasses: ds.classes.length, items: valItems, features });
		const fmt = format(o.out);
		writeFileSync(o.out, o.save === 'head' ? model.save(fmt, { keys: ['fc.'] }) : model.save(fmt));
		const script = finetuneScript({ settings, labels: ds.classes, weightsName: basename(o.weights) });
		if (o.script) writeFileSync(o.script, script);
		if (o.zip) {
			const files = (list) => list.map((s) => ({ label: s.label, name: basename(s.name), bytes: readFileSync(s.path) }));
			writeFileSync(o.zip, datasetZip({ labels: ds.classes, train: files(trainList), val: files(valList), script }));
		}
		const summary = {
			status: r.status, message: r.message ?? null, settings, classes: ds.classes,
			train: trainList.length, val: valList.length, featureCache: r.featureCache, history: r.history,
			evaluation: {
				accuracy: ev.accuracy, perClass: ev.perClass, confusion: ev.confusion,
				confidentWrong: ev.confidentWrong.map((w) => ({ ...w, name: valList[w.index].name })),
			},
			skipped, out: o.out, saved: o.save, build: eng.info.build, ms: Date.now() - t0,
		};
		stdout.write(`${JSON.stringify(summary)}\n`);
		model.dispose();
		return r.status === 'done' ? 0 : 1;
	} finally {
		eng.dispose();
	}
}
