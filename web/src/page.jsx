// The page: one notebook in two parts, with a table of contents. Part 1 (the
// autograd lesson) loads at once on the small engine module; part 2 (frozen
// parameters, ResNet-18) is a separate chunk with the full engine, fetched only
// when the learner scrolls near it or opens it from the contents; part 3 (the
// fine-tuning studio) is a third chunk, loaded the same way.
import { useEffect, useRef, useState } from 'preact/hooks';
import { signal } from '@preact/signals';
import { EngineBadge } from './shared/engine-badge.jsx';
import { AutogradLesson } from './autograd/autograd-lesson.jsx';

const CONTENTS = [
	{ part: 1, id: 'h-diff', title: 'Differentiation in Autograd' },
	{ part: 1, id: 'h-graph', title: 'Computational graph' },
	{ part: 1, id: 'h-checks', title: 'Checking the gradients' },
	{ part: 1, id: 'h-vjp', title: 'gradient= is a vector–Jacobian product' },
	{ part: 1, id: 'h-sem', title: 'Semantics that trip people up' },
	{ part: 2, id: 'h-frozen', title: 'Finetuning and Frozen parameters' },
	{ part: 2, id: 'h-weights', title: 'The weights' },
	{ part: 2, id: 'h-layers', title: 'The layers, and freezing them' },
	{ part: 2, id: 'h-grads', title: 'Who gets a gradient' },
	{ part: 2, id: 'h-bn', title: 'The BatchNorm trap' },
	{ part: 2, id: 'h-sees', title: 'What the model sees' },
	{ part: 3, id: 'h-studio', title: 'Fine-tuning on your own images' },
	{ part: 3, id: 'h-classes', title: 'Your classes and images' },
	{ part: 3, id: 'h-train', title: 'Train the new head' },
	{ part: 3, id: 'h-project-file', title: 'Keep your project' },
];

/** Part 2's module once it is loaded (or the error that stopped it). */
const partTwo = signal(null);
let partTwoLoading = null;

/** Loads part 2's chunk (once). */
function openPartTwo() {
	partTwoLoading ??= import('./frozen-parameters/frozen-lesson.jsx').then(
		(mod) => (partTwo.value = { Lesson: mod.FrozenLesson }),
		(err) => (partTwo.value = { error: err.message }),
	);
	return partTwoLoading;
}

/** Part 3's module once it is loaded (or the error that stopped it). */
const partThree = signal(null);
let partThreeLoading = null;

/** Loads part 3's chunk (once). */
function openPartThree() {
	partThreeLoading ??= import('./fine-tuning/fine-tuning-lesson.jsx').then(
		(mod) => (partThree.value = { Lesson: mod.FineTuningLesson }),
		(err) => (partThree.value = { error: err.message }),
	);
	return partThreeLoading;
}

/** Scrolls to a heading without touching the URL hash (part 1 keeps its inputs there). */
async function goTo(item) {
	if (item.part === 2) await openPartTwo();
	if (item.part === 3) await openPartThree();
	for (let i = 0; i < 20 && !document.getElementById(item.id); i++) await new Promise(requestAnimationFrame);
	const el = document.getElementById(item.id);
	el?.scrollIntoView({ behavior: 'smooth', block: 'start' });
	el?.focus({ preventScroll: true });
}

function Contents() {
	const link = (item) => (
		<li key={item.id}>
			<a href={`#${item.id}`} onClick={(e) => { e.preventDefault(); goTo(item); }}>
				{item.title}
			</a>
		</li>
	);
	return (
		<nav class="contents" aria-label="Contents">
			<h2 class="contents-title">Contents</h2>
			<ol>
				<li>
					Autograd
					<ol>{CONTENTS.filter((c) => c.part === 1).map(link)}</ol>
				</li>
				<li>
					Frozen parameters (ResNet-18)
					<ol>{CONTENTS.filter((c) => c.part === 2 && c.id !== 'h-frozen').map(link)}</ol>
				</li>
				<li>
					Fine-tuning on your own images
					<ol>{CONTENTS.filter((c) => c.part === 3 && c.id !== 'h-studio').map(link)}</ol>
				</li>
			</ol>
		</nav>
	);
}

/** Part 2's place: loads it when the learner comes within a screen of it. */
function PartTwo() {
	const ref = useRef(null);
	const [near, setNear] = useState(false);
	useEffect(() => {
		if (partTwo.value || !ref.current) return undefined;
		const seen = new IntersectionObserver((entries) => {
			if (entries.some((e) => e.isIntersecting)) {
				setNear(true);
				openPartTwo();
			}
		}, { rootMargin: '800px 0px' });
		seen.observe(ref.current);
		return () => seen.disconnect();
	}, []);
	const loaded = partTwo.value;
	if (loaded?.Lesson) return <loaded.Lesson />;
	return (
		<section ref={ref} aria-labelledby="h-frozen" class="part-placeholder">
			<h2 id="h-frozen" tabIndex={-1}>Finetuning and Frozen parameters</h2>
			{loaded?.error ? (
				<p class="banner is-error" role="alert">Part 2 could not load: {loaded.error}</p>
			) : (
				<button type="button" class="reset-button" onClick={openPartTwo} data-testid="open-part-two">
					{near ? 'Loading ResNet-18…' : 'Open part 2: ResNet-18 with frozen parameters'}
				</button>
			)}
		</section>
	);
}

/** Part 3's place: loads the studio when the learner comes within a screen of it. */
function PartThree() {
	const ref = useRef(null);
	useEffect(() => {
		if (partThree.value || !ref.current) return undefined;
		const seen = new IntersectionObserver((entries) => {
			if (entries.some((e) => e.isIntersecting)) openPartThree();
		}, { rootMargin: '800px 0px' });
		seen.observe(ref.current);
		return () => seen.disconnect();
	}, []);
	const loaded = partThree.value;
	if (loaded?.Lesson) return <loaded.Lesson />;
	return (
		<section ref={ref} aria-labelledby="h-studio" class="part-placeholder">
			<h2 id="h-studio" tabIndex={-1}>Fine-tuning on your own images</h2>
			{loaded?.error ? (
				<p class="banner is-error" role="alert">Part 3 could not load: {loaded.error}</p>
			) : (
				<button type="button" class="reset-button" onClick={openPartThree} data-testid="open-part-three">
					Open part 3: fine-tune on your own images
				</button>
			)}
		</section>
	);
}

/** The whole page. */
export function Page() {
	return (
		<>
			<header class="site-header">
				<div class="site-header-inner">
					<a class="brand" href="#top" onClick={(e) => { e.preventDefault(); scrollTo({ top: 0, behavior: 'smooth' }); }}>
						<span class="brand-mark" aria-hidden="true">∂</span> Gradbox
					</a>
					<EngineBadge />
				</div>
			</header>
			<main id="top" class="lesson">
				<p class="kicker">PyTorch tutorial · live</p>
				<h1>A Gentle Introduction to torch.autograd</h1>
				<p class="lede">
					Every cell below runs in a small C autograd engine compiled to WebAssembly, right in this tab. Edit the
					<span class="field-sample">highlighted</span> parts of the code: the outputs, the graph and the checks follow as
					you type. Part 2 runs torchvision’s ResNet-18 on the same engine.
				</p>
				<Contents />
				<AutogradLesson />
				<PartTwo />
				<PartThree />
			</main>
			<footer class="site-footer">
				<p>
					Text adapted from PyTorch’s tutorial “A Gentle Introduction to torch.autograd” (BSD-3-Clause). The printouts come
					from the engine, formatted the way PyTorch prints tensors. Your edits in part 1 are kept in the page address, so a
					link reproduces them.
				</p>
			</footer>
		</>
	);
}
