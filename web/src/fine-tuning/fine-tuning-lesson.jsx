// Part 3, fine-tuning on the learner's own images: the studio's room. This file lays out the data
// side (classes, images, split, project file); the training, curves, evaluation, prediction and
// export come from TrainingSection (training-section.jsx). Loaded as its own chunk (page.jsx).
import { useEffect, useState } from 'preact/hooks';
import { project, images, storageProblem, intakeProgress, loadStudio, currentSplit, addClass, dismissStorageProblem } from './state.js';
import { lastReport, activeClassId, addToClass, dropInto, filesFromPaste } from './studio-actions.js';
import { countByClass, MIN_TRAIN_CLASSES, MAX_CLASSES } from './project-model.js';
import { ClassCard } from './class-card.jsx';
import { IntakeReport } from './intake-report.jsx';
import { SplitSettings } from './split-settings.jsx';
import { ProjectFilePanel } from './project-file-panel.jsx';
import { GalleryDialog } from './gallery-dialog.jsx';
import { installStudioApi } from './studio-api.js';
import { TrainingSection } from './training-section.jsx';
import './studio.css';

function AddClass() {
	const [draft, setDraft] = useState('');
	const [error, setError] = useState('');
	const full = (project.value?.classes.length ?? 0) >= MAX_CLASSES;
	const submit = async (e) => {
		e.preventDefault();
		try {
			await addClass(draft);
			setDraft('');
			setError('');
		} catch (err) {
			setError(err.message);
		}
	};
	return (
		<form class="studio-add-class" onSubmit={submit}>
			<input type="text" aria-label="New class name" placeholder="New class name" value={draft} maxLength={400}
				onInput={(e) => setDraft(e.currentTarget.value)} disabled={full} />
			<button type="submit" class="button" disabled={full}>Add class</button>
			{error && <span class="studio-field-error" role="alert">{error}</span>}
		</form>
	);
}

/** Its own component: a progress tick re-renders this line only, not the classes and grids. */
function IntakeProgress() {
	const progress = intakeProgress.value;
	return progress && <p class="note" role="status" data-testid="intake-progress">Checking images: {progress.done} / {progress.total}</p>;
}

/** What the project takes in this browser's storage (navigator.storage.estimate), after each change. */
function StorageUse() {
	const [text, setText] = useState('');
	const n = images.value.length;
	useEffect(() => {
		let live = true;
		navigator.storage?.estimate?.().then(({ usage, quota }) => {
			if (live && quota) setText(`This page uses ${(usage / 1e6).toFixed(1)} MB of the ${(quota / 1e9).toFixed(1)} GB the browser allows it.`);
		}, () => {});
		return () => { live = false; };
	}, [n]);
	return text ? <p class="note muted" data-testid="storage-use">{text}</p> : null;
}

function FolderDrop() {
	const [over, setOver] = useState(false);
	return (
		<div
			class={`dropzone studio-folder-drop${over ? ' is-dragging' : ''}`}
			data-testid="folder-drop"
			onDragOver={(e) => { e.preventDefault(); setOver(true); }}
			onDragLeave={() => setOver(false)}
			onDrop={(e) => { e.preventDefault(); setOver(false); dropInto(e.dataTransfer); }}
		>
			Drop a folder with one subfolder per class (PyTorch’s <code>ImageFolder</code> layout) to fill the classes at once.
		</div>
	);
}

function Classes() {
	const p = project.value;
	const list = images.value;
	const byClass = new Map(p.classes.map((c) => [c.id, []]));
	for (const m of list) byClass.get(m.classId)?.push(m);
	const { val } = currentSplit();
	const valIds = new Set(val.map((m) => m.id));
	const valCounts = countByClass(val);
	return (
		<ul class="studio-classes" aria-label="Classes">
			{p.classes.map((c, i) => (
				<ClassCard key={c.id} cls={c} index={i} items={byClass.get(c.id)} valIds={valIds} classes={p.classes} valCount={valCounts.get(c.id) ?? 0} />
			))}
		</ul>
	);
}

/** The part-3 room. */
export function FineTuningLesson() {
	useEffect(() => {
		loadStudio();
		installStudioApi();
		const onPaste = (e) => {
			if (e.target instanceof HTMLInputElement || e.target instanceof HTMLTextAreaElement || e.target.isContentEditable) return;
			// a paste goes to the studio when it happens inside it, or on the page while the studio is in view
			const studio = document.querySelector('.studio');
			const box = studio?.getBoundingClientRect();
			const inView = box && box.bottom > 0 && box.top < innerHeight;
			if (!studio || !(studio.contains(e.target) || (e.target === document.body && inView))) return;
			const files = filesFromPaste(e);
			const target = activeClassId.value ?? project.value?.classes[0]?.id;
			if (!files.length || !target) return;
			e.preventDefault();
			addToClass(target, files);
		};
		document.addEventListener('paste', onPaste);
		return () => document.removeEventListener('paste', onPaste);
	}, []);
	const p = project.value;
	const problem = storageProblem.value;
	const n = p?.classes.length ?? 0;
	return (
		<>
			<section aria-labelledby="h-studio" class="studio" data-testid="studio" data-ready={p ? 'yes' : 'no'}>
				<h2 id="h-studio" tabIndex={-1}>Fine-tuning on your own images</h2>
				<p>
					The tutorial replaces <code>model.fc</code> to train on “a new dataset with 10 labels”. Here the dataset is yours: make
					a few classes, give each some pictures, and train the new head on the engine above.
				</p>
				<p class="studio-privacy" data-testid="privacy">
					<strong>Your images never leave this device.</strong> They are kept in this browser’s storage (IndexedDB) for this page,
					and nothing is uploaded.
				</p>
				{problem && (
					<p class="banner is-error" role="alert" data-testid="storage-problem">
						{problem.message}{' '}
						<button type="button" class="link-button" onClick={dismissStorageProblem}>Dismiss</button>
					</p>
				)}
				{!p ? <p class="loading">opening your project…</p> : (
					<>
						<h3 id="h-classes" tabIndex={-1}>Your classes and images</h3>
						<p class="note" data-testid="class-summary">
							{n} class{n === 1 ? '' : 'es'} · {images.value.length} image{images.value.length === 1 ? '' : 's'}
							{n < MIN_TRAIN_CLASSES ? ' · training needs at least 2 classes' : ''}
						</p>
						<AddClass />
						<FolderDrop />
						<IntakeProgress />
						<IntakeReport report={lastReport.value} />
						<Classes />
						<SplitSettings />
						<StorageUse />
					</>
				)}
			</section>
			<TrainingSection />
			{p && <ProjectFilePanel />}
			<GalleryDialog />
		</>
	);
}
