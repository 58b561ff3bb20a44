// "Train the new head": the part-3 room's training section (mounted by fine-tuning-lesson.jsx in
// place of its <section id="h-train"> placeholder). Settings, Train/Pause/Resume/Stop with
// progress, live curves, the evaluation, predictions on new images and the webcam, and export.
// On mount it marks runs a reload interrupted and loads the last run's head into the worker.
// Guarded by tests/e2e/studio-train.spec.mjs (every test goes through it).
import { useEffect } from 'preact/hooks';
import { DEFAULT_SETTINGS } from '../../../js/finetune-settings.mjs';
import { engineRestart, weights } from '../frozen-parameters/state.js';
import { project, runs, images } from './state.js';
import { live, batchLoss, reopen, latestRun, refreshFeatureCount } from './training-state.js';
import { SettingsForm } from './settings-form.jsx';
import { RunControls } from './run-controls.jsx';
import { TrainingCurves } from './training-curves.jsx';
import { EvaluationPanel } from './evaluation-panel.jsx';
import { PredictPanel } from './predict-panel.jsx';
import { ExportPanel } from './export-panel.jsx';
import './training.css';

let reopened = null;

/** The whole training section; nothing until the project has loaded. */
export function TrainingSection() {
	const p = project.value;
	useEffect(() => {
		if (p && !reopened) reopened = reopen();
	}, [p?.id]);
	const settings = { ...DEFAULT_SETTINGS, ...(p?.settings ?? {}) };
	const cacheKey = `${images.value.length}/${settings.keepWhole}/${settings.unfreeze}/${settings.bnMode}/${settings.augment}/${weights.value?.sha256}`;
	useEffect(() => {
		if (p && !live.value) refreshFeatureCount().catch(() => {});
	}, [cacheKey]);
	if (!p) return null;
	const all = (runs.value ?? []).filter((r) => r.projectId === p.id);
	const run = latestRun();
	const restart = engineRestart.value;
	return (
		<section id="h-train" tabIndex={-1} aria-labelledby="h-train-title" class="training" data-testid="training" data-live={live.value?.status ?? 'idle'}>
			<h3 id="h-train-title">Train the new head</h3>
			{restart && (
				<p class={`banner ${restart.state === 'failed' ? 'is-error' : 'is-warning'}`} role="alert" data-testid="engine-restart" data-state={restart.state}>
					{restart.message}
				</p>
			)}
			<SettingsForm disabled={!!live.value} />
			<RunControls settings={settings} />
			<TrainingCurves runs={all} currentId={live.value?.runId ?? run?.id ?? null} batchLoss={batchLoss.value} />
			<EvaluationPanel run={run} />
			<PredictPanel />
			<ExportPanel />
		</section>
	);
}
