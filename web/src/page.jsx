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

/**
 * A part loaded as its own chunk, once: `state` holds { Lesson } when it is loaded (or
 * { error }), `open()` starts the import and returns its promise.
 */
function lazyPart(load, exportName) {
	const state = signal(null);
	let loading = null;
	const open = () => {
		loading ??= load().then(
			(mod) => (state.value = { Lesson: mod[exportName] }),
			(err) => (state.value = { error: err.message }),
		);
		return loading;
	};
	return { state, open };
}

const PARTS = {
	2: lazyPart(() => import('./frozen-parameters/frozen-lesson.jsx'), 'FrozenLesson'),
	3: lazyPart(() => import('./fine-tuning/fine-tuning-lesson.jsx'), 'FineTuningLesson'),
};

/** Scrolls to a heading without touching the URL hash (part 1 keeps its inputs there). */
async function goTo(item) {
	await PARTS[item.part]?.open();
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

/**
 * A later part's place: loads it when the learner comes within a screen of it, or presses
 * its button; then the part itself.
 */
function LazyPart({ part, headingId, title, button, loadingText = button, testId }) {
	const { state, open } = PARTS[part];
	const ref = useRef(null);
	const [near, setNear] = useState(false);
	useEffect(() => {
		if (state.value || !ref.current) return undefined;
		const seen = new IntersectionObserver((entries) => {
			if (entries.some((e) => e.isIntersecting)) {
				setNear(true);
				open();
			}
		}, { rootMargin: '800px 0px' });
		seen.observe(ref.current);
		return () => seen.disconnect();
	}, []);
	const loaded = state.value;
	if (loaded?.Lesson) return <loaded.Lesson />;
	return (
		<section ref={ref} aria-labelledby={headingId} class="part-placeholder">
			<h2 id={headingId} tabIndex={-1}>{title}</h2>
			{loaded?.error ? (
				<p class="banner is-error" role="alert">Part {part} could not load: {loaded.error}</p>
			) : (
				<button type="button" class="reset-button" onClick={open} data-testid={testId}>
					{near ? loadingText : button}
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
				<LazyPart part={2} headingId="h-frozen" title="Finetuning and Frozen parameters" testId="open-part-two"
					button="Open part 2: ResNet-18 with frozen parameters" loadingText="Loading ResNet-18…" />
				<LazyPart part={3} headingId="h-studio" title="Fine-tuning on your own images" testId="open-part-three"
					button="Open part 3: fine-tune on your own images" />
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
