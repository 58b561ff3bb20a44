#!/usr/bin/env node
// gradbox: the engine from the command line (the same wasm as the page).
//   gradbox grad --expr "3*a**3 - b**2" --tensor a=2,3 --tensor b=6,4 --gradient 1,1
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseOptions } from '../js/cli-args.mjs';
import { loadEngine, topK } from '../js/engine.mjs';
import { FINETUNE_USAGE, UsageError as FinetuneUsageError, finetuneCommand } from '../js/finetune-cli.mjs';
import { readNpy, writeNpy } from '../js/npy.mjs';

const BENCH_USAGE = `  bench       (needs a clone of the repository: the bench is not in the npm package)
          ResNet-18 224x224, same weights, threads and batch for every engine: forward at
          batch 1 and 8 (ONNX Runtime Web; Gradbox and native PyTorch alternated in one
          process), Gradbox's 2 threads against 1 (the scaling rows), a training step at
          batch 16 (fc / layer4+fc / everything; Gradbox and PyTorch alternated, Gradbox's
          wasm heap peak); then the table against the speed and memory targets
          (bench/README.md). PyTorch is Debian's python3-torch at /usr/bin/python3
          (GB_TORCH_PYTHON), skipped with a note if absent.
          --threads 1,2  --batches 1,8  --cases a,b,c  --runs N  --no-ort  --no-train
          --json                   print the rows as a JSON array (only JSON on stdout)
          --save [FILE]            append the rows to bench/results.jsonl (node
                                   bench/results.mjs then writes bench/RESULTS.md)
          (bench/README.md; the Chromium page: node bench/page/run.mjs)`;

const USAGE = `usage: gradbox <command> [options]

commands:
  grad    evaluate an expression, run backward, print Q, the grads and the graph as JSON
          --expr "3*a**3 - b**2"   the expression (Python syntax; see README)
          --tensor a=2,3           a leaf with requires_grad=True (repeatable);
                                   a=5 is 0-d, a=[5] is 1-D, W=[[1,2],[3,4]] is 2-D
          --const c=1,2            a leaf with requires_grad=False (repeatable)
          --gradient 1,1           Q.backward(gradient=...); omit it for a scalar Q
          --retain-graph           keep the graph (for a second backward)
          --build mt|simd|scalar   which wasm build to run (default: the best available)
          --pretty                 indent the JSON

  forward     ResNet-18 logits for a batch of images
          --weights W.pth|W.safetensors   torchvision resnet18 state_dict (strict)
          --input x.npy            float32 (N, 3, H, W), normalised as torchvision does
          --num-classes 1000       the head's size (must match the weights)
          --out logits.npy         write the logits instead of printing JSON
          --top 5                  also list each image's k most likely classes, with
                                   softmax probabilities (printed; 0: none)
          --labels FILE            class names for --top: a JSON array or one per line
                                   (default with 1000 classes: assets/imagenet_classes.json)
          --threads N  --build mt|simd|scalar
  train-step  seeded fine-tuning steps (the tutorial: frozen backbone, new fc, SGD)
          --weights W  --input x.npy  --targets 1,7  (one class index per image)
          --num-classes 10         replace fc with Linear(512, N) after manual_seed(--seed)
          --seed 0  --steps 3  --lr 1e-2  --momentum 0.9  --weight-decay 0
          --unfreeze fc            module paths that train, comma-separated ("all" = everything)
          --train-mode             BatchNorm in training mode (default: eval, as when
                                   only the head trains)
          --out-weights W.pth|W.safetensors   save the state_dict after the steps
          prints {"losses": [...], "logits": [...]} (logits after the last step, eval mode)

${FINETUNE_USAGE}

${BENCH_USAGE}

exit status: 0 on success, 1 when the engine reports an error (message on stderr) or,
for finetune, the data or weights cannot be used or training diverged; 2 for bad usage
(including a setting out of range, named by its flag).`;

class UsageError extends Error {}

/** "2,3" → [2, 3]; "5" → 5; "[[1,2],[3,4]]" → nested lists. */
export function parseValues(text, what) {
	const t = text.trim();
	let v;
	try {
		v = t.startsWith('[') ? JSON.parse(t) : t.includes(',') ? t.split(',').map((x) => JSON.parse(x.trim())) : JSON.parse(t);
	} catch {
		throw new UsageError(`${what}: cannot read '${text}' as numbers (write 2,3 or [[1,2],[3,4]])`);
	}
	const ok = (x) => (Array.isArray(x) ? x.every(ok) : typeof x === 'number');
	if (!ok(v)) throw new UsageError(`${what}: '${text}' is not a number or a list of numbers`);
	return v;
}

function parseTensor(spec, requiresGrad) {
	const eq = spec.indexOf('=');
	if (eq <= 0) throw new UsageError(`--tensor: expected NAME=VALUES, got '${spec}'`);
	const name = spec.slice(0, eq).trim();
	return { op: 'tensor', name, data: parseValues(spec.slice(eq + 1), `--tensor ${name}`), requires_grad: requiresGrad };
}

function caret(expr, pos) {
	return pos >= 0 && pos <= expr.length ? `\n  ${expr}\n  ${' '.repeat(pos)}^` : '';
}

async function grad(args) {
	const { values: o } = parseOptions({
		args,
		options: {
			expr: { type: 'string' }, tensor: { type: 'string', multiple: true, default: [] },
			const: { type: 'string', multiple: true, default: [] }, gradient: { type: 'string' },
			'retain-graph': { type: 'boolean', default: false }, build: { type: 'string', default: 'auto' },
			pretty: { type: 'boolean', default: false },
		},
	});
	if (!o.expr) throw new UsageError('grad: --expr is required');
	const steps = [
		...o.tensor.map((s) => parseTensor(s, true)),
		...o.const.map((s) => parseTensor(s, false)),
		{ op: 'assign', name: 'Q', expr: o.expr },
		{
			op: 'backward', name: 'Q', retain_graph: o['retain-graph'],
			gradient: o.gradient === undefined ? null : parseValues(o.gradient, '--gradient'),
		},
	];
	const eng = await loadEngine({ build: o.build });
	try {
		const res = eng.run(steps).steps;
		const last = res.at(-1);
		if (!last.ok) {
			const failed = steps[res.length - 1];
			const where = failed.op === 'assign' ? caret(o.expr, last.pos) : '';
			process.stderr.write(`gradbox: ${last.error}${where}\n`);
			return 1;
		}
		const s = last.state;
		const out = { Q: s.value, shape: s.shape, grads: s.grads, graph: s.graph, build: eng.info };
		process.stdout.write(`${JSON.stringify(out, null, o.pretty ? 2 : 0)}\n`);
		return 0;
	} finally {
		eng.dispose();
	}
}

function readWeights(path) {
	try {
		return readFileSync(path);
	} catch (e) {
		throw new UsageError(`cannot read the weights '${path}': ${e.code ?? e.message}`);
	}
}

function readInput(path) {
	let bytes;
	try {
		bytes = readFileSync(path);
	} catch (e) {
		throw new UsageError(`cannot read the input '${path}': ${e.code ?? e.message}`);
	}
	const x = readNpy(bytes);
	if (x.shape.length !== 4 || x.shape[1] !== 3) throw new UsageError(`--input: expected (N, 3, H, W), got (${x.shape.join(', ')})`);
	return x;
}

const MODEL_OPTIONS = {
	weights: { type: 'string' }, input: { type: 'string' }, 'num-classes': { type: 'string' },
	threads: { type: 'string' }, build: { type: 'string', default: 'auto' }, out: { type: 'string' },
	seed: { type: 'string', default: '0' },
};

async function withModel(o, numClasses, fn) {
	const threads = o.threads === undefined ? undefined : Number(o.threads);
	const eng = await loadEngine({ build: o.build, threads });
	try {
		const model = eng.model(numClasses, Number(o.seed));
		try {
			return await fn(model, eng);
		} finally {
			model.dispose();
		}
	} finally {
		eng.dispose();
	}
}

const IMAGENET_CLASSES = new URL('../assets/imagenet_classes.json', import.meta.url);

/** Class names: a JSON array of strings, or one name per line. */
function readLabels(path, classes) {
	let text;
	try {
		text = readFileSync(path, 'utf8');
	} catch (e) {
		throw new UsageError(`cannot read the labels '${path}': ${e.code ?? e.message}`);
	}
	let labels;
	try {
		labels = text.trimStart().startsWith('[') ? JSON.parse(text) : text.split(/\r?\n/).filter((l) => l.trim() !== '');
	} catch (e) {
		throw new UsageError(`--labels: '${path}' is not a JSON array of names: ${e.message}`);
	}
	if (!Array.isArray(labels) || labels.some((l) => typeof l !== 'string')) {
		throw new UsageError(`--labels: '${path}' is not a list of names`);
	}
	if (labels.length !== classes) throw new UsageError(`--labels: ${labels.length} names for ${classes} classes`);
	return labels;
}

async function forward(args) {
	const { values: o } = parseOptions({
		args, options: { ...MODEL_OPTIONS, top: { type: 'string' }, labels: { type: 'string' } },
	});
	if (!o.input) throw new UsageError('forward: --input is required');
	const x = readInput(o.input);
	const classes = Number(o['num-classes'] ?? 1000);
	// --top: 5 by default when the logits are printed, none when they go to --out unless asked
	const k = o.top === undefined ? (o.out ? 0 : 5) : Number(o.top);
	if (!Number.isInteger(k) || k < 0) throw new UsageError(`--top: expected a count, got '${o.top}'`);
	const labels = o.labels ? readLabels(o.labels, classes)
		: classes === 1000 && k > 0 ? JSON.parse(readFileSync(IMAGENET_CLASSES, 'utf8')) : null;
	return withModel(o, classes, (model) => {
		if (o.weights) model.load(readWeights(o.weights));
		const logits = model.forward(x.data, x.shape, classes);
		const top = k > 0 ? { top: topK(logits, classes, Math.min(k, classes), labels) } : {};
		if (o.out) {
			writeFileSync(o.out, writeNpy(logits, [x.shape[0], classes]));
			if (k > 0) process.stdout.write(`${JSON.stringify(top)}\n`);
		} else {
			process.stdout.write(`${JSON.stringify({ shape: [x.shape[0], classes], logits: Array.from(logits), ...top })}\n`);
		}
		return 0;
	});
}

async function trainStep(args) {
	const { values: o } = parseOptions({
		args,
		options: {
			...MODEL_OPTIONS, targets: { type: 'string' }, steps: { type: 'string', default: '3' },
			lr: { type: 'string', default: '1e-2' }, momentum: { type: 'string', default: '0.9' },
			'weight-decay': { type: 'string', default: '0' }, unfreeze: { type: 'string', default: 'fc' },
			'train-mode': { type: 'boolean', default: false }, 'out-weights': { type: 'string' },
		},
	});
	if (!o.input || !o.targets) throw new UsageError('train-step: --input and --targets are required');
	const x = readInput(o.input);
	const targets = parseValues(o.targets, '--targets');
	const list = Array.isArray(targets) ? targets : [targets];
	if (list.length !== x.shape[0]) throw new UsageError(`--targets: ${list.length} labels for ${x.shape[0]} images`);
	const classes = Number(o['num-classes'] ?? 10);
	return withModel(o, 1000, (model) => {
		if (o.weights) model.load(readWeights(o.weights));
		model.setRequiresGrad('', false);                 // for param in model.parameters(): requires_grad = False
		model.replaceFc(classes, Number(o.seed));          // model.fc = nn.Linear(512, N) (trainable)
		if (o.unfreeze === 'all') model.setRequiresGrad('', true);
		else for (const path of o.unfreeze.split(',').map((p) => p.trim()).filter(Boolean)) model.setRequiresGrad(path, true);
		model.train(o['train-mode']);
		const losses = [];
		for (let i = 0; i < Number(o.steps); i++) {
			losses.push(model.trainStep(x.data, x.shape, list, { lr: Number(o.lr), momentum: Number(o.momentum), weightDecay: Number(o['weight-decay']) }));
		}
		model.train(false);
		const logits = Array.from(model.forward(x.data, x.shape, classes));
		if (o['out-weights']) writeFileSync(o['out-weights'], model.save(o['out-weights'].endsWith('.pth') ? 'pth' : 'safetensors'));
		process.stdout.write(`${JSON.stringify({ losses, logits, shape: [x.shape[0], classes] })}\n`);
		return 0;
	});
}

/**
 * The bench lives in the repository, not in the npm package: it needs the PyTorch-made
 * fixtures (tests/resnet), onnxruntime-web (a devDependency) and python3-torch, none of
 * which a user of grad / forward / finetune should have to install.
 */
async function bench(args) {
	if (args.includes('--help') || args.includes('-h')) {
		process.stdout.write(`usage: gradbox bench [options]\n\n${BENCH_USAGE}\n`);
		return 0;
	}
	const runner = new URL('../bench/node.mjs', import.meta.url);
	if (!existsSync(fileURLToPath(runner))) {
		process.stderr.write('gradbox bench needs a clone of the repository (bench/ and tests/ are not in the npm '
			+ 'package): git clone <repo> && cd gradbox && bash scripts/setup.sh && npx gradbox bench\n');
		return 2;
	}
	return (await import(runner.href)).main(args);
}

async function main(argv) {
	const [cmd, ...rest] = argv;
	if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
		process.stdout.write(`${USAGE}\n`);
		return cmd ? 0 : 2;
	}
	if (cmd === 'grad') return grad(rest);
	if (cmd === 'forward') return forward(rest);
	if (cmd === 'train-step') return trainStep(rest);
	if (cmd === 'finetune') return finetuneCommand(rest);
	if (cmd === 'bench') return bench(rest);
	throw new UsageError(`unknown command '${cmd}'`);
}

try {
	process.exitCode = await main(process.argv.slice(2));
} catch (e) {
	if (e instanceof UsageError || e instanceof FinetuneUsageError || e.code?.startsWith?.('ERR_PARSE_ARGS')) {
		process.stderr.write(`gradbox: ${e.message}\n\n${USAGE}\n`);
		process.exitCode = 2;
	} else {
		process.stderr.write(`gradbox: ${e.message}\n`);
		process.exitCode = 1;
	}
}
