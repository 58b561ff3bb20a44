// Part 2, frozen parameters: torchvision's ResNet-18 on the full engine, the
// notebook's cells In[16]-In[23], the layer tree with freeze toggles, who gets
// a gradient, the BatchNorm trap, and what the model sees. Loaded as its own
// chunk when the learner reaches it (page.jsx).
import { useEffect } from 'preact/hooks';
import { NotebookCell, CellOutput } from '../shared/notebook-cell.jsx';
import { Py } from '../shared/python-code.jsx';
import { LongOutput } from '../shared/long-output.jsx';
import { startPartTwo, snapshot, tree, phase, actionProblem, setTrainable, modelEngineInfo } from './state.js';
import { LoadCell, ChildrenCell, DirCell, HeadCell } from './model-cells.jsx';
import { WeightsPanel } from './weights-panel.jsx';
import { LayerTree } from './layer-tree.jsx';
import { freezeCode, parameters, presetNames, presetOf, totalsText } from './freeze-state.js';
import { WhoGetsGrad, gradRun, gradNorms, stateKey } from './who-gets-grad.jsx';
import { BatchNormTrap } from './bn-trap.jsx';
import { ImagePicker, ModelSees } from './model-sees.jsx';
import { SAMPLES, image, chooseSample } from './image-choice.js';

let started = false;

const PRESETS = [
	['tutorial', 'the tutorial’s: only the new fc'],
	['layer4', 'fc + layer4'],
	['all', 'everything'],
];

function FreezeControls() {
	const t = tree.value;
	if (!t) return null;
	const preset = presetOf(t);
	const code = freezeCode(t);
	const last = gradRun.value;
	const current = last && last.key === stateKey(t);
	return (
		<>
			<p class="totals" role="status" data-testid="trainable-totals">{totalsText(t)}</p>
			<div class="presets" role="group" aria-label="freeze presets">
				{PRESETS.map(([key, label]) => (
					<button key={key} type="button" class="chip" aria-pressed={preset === key} data-testid={`preset-${key}`}
						onClick={() => setTrainable(presetNames(t, key))}>
						{label}
					</button>
				))}
			</div>
			<div data-testid="freeze-code">
				<NotebookCell code={<Py code={code.length ? code.join('\n') : '# the tutorial’s state: nothing to add'} />} />
			</div>
			<LayerTree
				tree={t}
				onTrainable={setTrainable}
				grads={current ? gradNorms(last.result.after.tree) : null}
				stoppedAt={current ? last.result.step.first_grad_module : null}
			/>
			<NotebookCell code={<Py code={'for name, param in model.named_parameters():\n    print(name, param.requires_grad)'} />}>
				<LongOutput testid="out-requires-grad" preview={6} text={requiresGradPrint(t)} />
			</NotebookCell>
		</>
	);
}

/** The printout of named_parameters() with requires_grad, in order. */
function requiresGradPrint(t) {
	return parameters(t).map((p) => `${p.name} ${p.requiresGrad ? 'True' : 'False'}`).join('\n');
}

export function FrozenLesson() {
	useEffect(() => {
		if (!started) {
			started = true;
			startPartTwo();
			if (!image.value && SAMPLES.length) chooseSample(SAMPLES[0]);
		}
	}, []);
	const problem = actionProblem.value;
	const info = modelEngineInfo.value;
	return (
		<>
			<section aria-labelledby="h-frozen" data-testid="part-two" data-phase={phase.value}>
				<h2 id="h-frozen" tabIndex={-1}>Finetuning and Frozen parameters</h2>
				<p>
					In finetuning, we freeze most of the model and typically only modify the classifier layers to make predictions on
					new labels. This part runs torchvision’s ResNet-18, module for module, on the same C engine
					{info ? ` (the full module, wasm ${info.build})` : ''}: 11.7 million parameters, every printout and number as PyTorch gives them.
				</p>
				{problem && problem.what === 'engine' && <p class="banner is-error" role="alert">The engine could not run: {problem.message}</p>}
				<LoadCell />
			</section>
			<section aria-labelledby="h-weights">
				<h3 id="h-weights" tabIndex={-1}>The weights</h3>
				<WeightsPanel />
			</section>
			<section aria-labelledby="h-children-title">
				<h3 id="h-children-title">The model’s children</h3>
				<ChildrenCell />
				<DirCell />
				<p>
					Let’s say we want to finetune the model on a new dataset with 10 labels. In ResNet, the classifier is the last
					linear layer <code>model.fc</code>. We can simply replace it with a new linear layer (unfrozen by default) that
					acts as our classifier.
				</p>
				<HeadCell />
			</section>
			<section aria-labelledby="h-layers">
				<h3 id="h-layers" tabIndex={-1}>The layers, and freezing them</h3>
				<p>
					The tree nests as <code>print(model)</code> does. Each row shows the output shape for one 224 × 224 image, its
					parameters and how many of them will train. Toggle a module to set <code>requires_grad</code> on everything
					inside it; the code and the printout below follow.
				</p>
				{snapshot.value ? <FreezeControls /> : <p class="loading">loading the model…</p>}
				{problem && problem.what === 'freeze' && <CellOutput text={problem.message} error />}
			</section>
			<section aria-labelledby="h-grads">
				<h3 id="h-grads" tabIndex={-1}>Who gets a gradient</h3>
				<p>
					Backward only computes what some parameter needs. With the backbone frozen, no tensor before the head requires a
					gradient, so autograd never records those operations for backward and never enters them.
				</p>
				<ImagePicker />
				<WhoGetsGrad />
				{problem && problem.what === 'grads' && <CellOutput text={problem.message} error />}
			</section>
			<section aria-labelledby="h-bn">
				<h3 id="h-bn" tabIndex={-1}>The BatchNorm trap</h3>
				<BatchNormTrap />
				{problem && problem.what === 'bn' && <CellOutput text={problem.message} error />}
			</section>
			<section aria-labelledby="h-sees">
				<h3 id="h-sees" tabIndex={-1}>What the model sees</h3>
				<p>
					Before its head is replaced, the model answers in ImageNet’s 1000 classes. Here is the picture above, through the
					preprocessing torchvision’s weights expect, and the five classes it scores highest.
				</p>
				<ModelSees />
			</section>
		</>
	);
}
