// The notebook's cells of part 2, In[16] to In[23], with PyTorch's printouts
// as the engine makes them.
import { useState } from 'preact/hooks';
import { NotebookCell, CellOutput } from '../shared/notebook-cell.jsx';
import { Py } from '../shared/python-code.jsx';
import { CodeField } from '../shared/code-field.jsx';
import { LongOutput } from '../shared/long-output.jsx';
import { snapshot, replaceHead, actionProblem } from './state.js';
import { dirListing, DIR_RELEASE } from './dir-model.js';
import { MAX_CLASSES } from '../../../js/model.mjs';

const LOAD_CODE = `from torch import nn, optim
from torchvision.models import resnet18, ResNet18_Weights

model = resnet18(weights=ResNet18_Weights.DEFAULT)

# Freeze all the parameters in the network
for param in model.parameters():
    param.requires_grad = False`;

/** In[16]: the model and the freeze loop (the weights panel follows it). */
export function LoadCell() {
	return <NotebookCell n={16} code={<Py code={LOAD_CODE} />} />;
}

/** The text up to the end of the first BasicBlock: what In[21] shows collapsed. */
function firstBlockLines(text) {
	const lines = text.split('\n');
	const end = lines.findIndex((l) => l === '  (1): BasicBlock(');
	return end > 0 ? end : 20;
}

/** In[21]: for child in model.children(): print(child) */
export function ChildrenCell() {
	const text = snapshot.value?.children_repr;
	return (
		<NotebookCell n={21} code={<Py code={'# printing all the layers in the model\nfor child in model.children():\n    print(child)'} />}>
			{text ? <LongOutput text={text.replace(/\n$/, '')} preview={firstBlockLines(text)} testid="out-children" /> : <p class="loading">loading the model…</p>}
		</NotebookCell>
	);
}

/** In[22]: dir(model), as Jupyter shows a list. */
export function DirCell() {
	const snap = snapshot.value;
	const text = snap ? dirListing(snap.tutorial.tree) : null;
	return (
		<NotebookCell n={22} code={<Py code="dir(model)" />}>
			{text ? <LongOutput text={text} preview={12} testid="out-dir" /> : <p class="loading">loading the model…</p>}
			<p class="note">
				As printed by PyTorch {DIR_RELEASE.torch} with torchvision {DIR_RELEASE.torchvision}, the release that made this
				page’s fixtures; newer releases add a few names (the tutorial’s list has <code>_compiled_call_impl</code>, for one).
			</p>
		</NotebookCell>
	);
}

/** out_features: a whole number from 1 to MAX_CLASSES (the engine's limit). */
const validN = (t) => /^\d+$/.test(t) && +t >= 1 && +t <= MAX_CLASSES;
/** A seed this page can pass on exactly: a whole number up to 2^53 − 1. */
const validSeed = (t) => /^\d+$/.test(t) && +t <= Number.MAX_SAFE_INTEGER;

/** In[23]: model.fc = nn.Linear(512, N) after torch.manual_seed(seed); print(model.fc); the optimizer. */
export function HeadCell() {
	const snap = snapshot.value;
	const head = snap?.head ?? { n: 10, seed: 0 };
	const [n, setN] = useState(null);
	const [seed, setSeed] = useState(null);
	const nText = n ?? String(head.n);
	const seedText = seed ?? String(head.seed);
	const nOk = validN(nText);
	const seedOk = validSeed(seedText);
	const apply = (nt, st) => {
		if (validN(nt) && validSeed(st)) replaceHead(+nt, +st).catch(() => {});
	};
	const problem = actionProblem.value?.what === 'head' ? actionProblem.value.message : null;
	return (
		<>
			<NotebookCell
				n={23}
				code={
					<>
						<span class="py-keyword">import</span> torch{'\n'}
						torch.manual_seed(
						<CodeField value={seedText} label="seed" invalid={!seedOk} testid="input-head-seed" onInput={(t) => { setSeed(t); apply(nText, t); }} />
						){'\n'}model.fc = nn.Linear(<span class="py-number">512</span>,{' '}
						<CodeField value={nText} label="number of classes" invalid={!nOk} testid="input-head-n" onInput={(t) => { setN(t); apply(t, seedText); }} />
						){'\n'}
						<span class="py-keyword">print</span>(model.fc)
					</>
				}
			>
				{problem && <CellOutput text={problem} error testid="out-head-error" />}
				{!nOk && <CellOutput text={`N must be a whole number from 1 to ${MAX_CLASSES}`} error />}
				{snap && <CellOutput text={snap.tutorial.fc_repr.trimEnd()} testid="out-fc" />}
			</NotebookCell>
			<p>
				The new layer is created with <code>requires_grad=True</code>, like every new parameter, so it is the only part
				of the model that will learn. Its weights are drawn exactly as PyTorch draws them after{' '}
				<code>torch.manual_seed</code>: change the seed and the numbers change; the engine gives the same ones as PyTorch, bit
				for bit.
			</p>
			<NotebookCell code={<Py code="optimizer = optim.SGD(model.parameters(), lr=1e-2, momentum=0.9)" />} />
			<p>
				Every parameter is handed to the optimizer, yet only the head moves. <code>optimizer.step()</code> updates a
				parameter from its <code>.grad</code>, and a frozen parameter never gets one: backward does not compute gradients
				for tensors that do not require them, so their <code>.grad</code> stays <code>None</code> and SGD skips them
				(momentum buffers included). Passing only <code>model.fc.parameters()</code> would train the same weights; passing
				all of them means that unfreezing a layer later needs no new optimizer.
			</p>
		</>
	);
}
