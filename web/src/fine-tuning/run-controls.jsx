// Train / Pause / Resume / Stop, the run's progress (epoch, batch, ETA, the feature cache's count)
// and what became of the last run: finished, stopped, diverged (what happened, what to try) or
// interrupted by a reload (its finished epochs kept, Resume continues after the last one).
// Guarded by tests/e2e/studio-train.spec.mjs (pause/resume/stop, divergence, reload mid-training).
import { live, trainProblem, startTraining, pauseTraining, resumeTraining, stopTraining, latestRun } from './training-state.js';
import { settingErrors, settingsSettled } from './settings-form.jsx';
import { formatEta } from './run-record.js';
import { phase as enginePhase } from '../frozen-parameters/state.js';

const STATUS_TEXT = {
	done: 'finished',
	stopped: 'stopped; the weights of its last finished epoch are kept',
	interrupted: 'interrupted (the page was reloaded or the engine stopped); its finished epochs are kept',
	diverged: 'diverged',
};

function Progress({ now, epochs }) {
	const f = now.features;
	const total = now.batches ? epochs * now.batches : 0;
	const done = now.batches ? (now.epoch - 1) * now.batches + now.batch : 0;   // epochs count from 1
	return (
		<div class="run-progress" data-testid="run-progress" data-status={now.status}>
			{f && (
				<p data-testid="features-count">
					features: {f.done} / {f.total}{f.cached ? ` (${f.cached} from the cache)` : ''}
				</p>
			)}
			<progress max={total || undefined} value={total ? done : undefined} aria-label="training progress" />
			<span role="status">
				{now.status === 'preparing' && (enginePhase.value === 'ready' ? 'preparing the images…' : 'waiting for the backbone’s weights (part 2 is loading them)…')}
				{now.status === 'features' && 'computing the features…'}
				{(now.status === 'running' || now.status === 'paused') && now.batches > 0 && (
					<>
						epoch <span data-testid="run-epoch">{now.epoch}</span> / {epochs}, batch {now.batch} / {now.batches}
						{now.loss != null && <> · loss {Number(now.loss).toFixed(4)}</>}
						{' '}· {now.status === 'paused' ? 'paused' : <>ETA <span data-testid="run-eta">{formatEta(now.etaMs)}</span></>}
					</>
				)}
			</span>
		</div>
	);
}

function LastRun({ run }) {
	if (!run) return null;
	if (run.status === 'running' || run.status === 'paused') {
		// not this tab's run (this tab's own has live progress): another tab trains it (run-lock.js)
		const last = run.history[run.history.length - 1];
		return (
			<p role="status" data-testid="training-elsewhere">
				A run is training in another tab of this page{last && <> (epoch {last.epoch} done)</>}. Its results show here as its epochs finish.
			</p>
		);
	}
	const last = run.history[run.history.length - 1];
	return (
		<div data-testid="last-run" data-status={run.status}>
			{run.status === 'diverged'
				? <p class="banner is-error" role="alert" data-testid="diverged-message">{run.message}</p>
				: (
					<p>
						Last run {STATUS_TEXT[run.status] ?? run.status}
						{last && <> after epoch {last.epoch}: validation accuracy {pct(last.valAcc)}, training accuracy {pct(last.trainAcc)}</>}.
					</p>
				)}
			{run.status === 'interrupted' && run.checkpoint && (
				<button type="button" class="button" data-testid="run-resume-interrupted" onClick={() => startTraining(run)}>
					Resume from epoch {run.checkpoint.epoch + 1}
				</button>
			)}
		</div>
	);
}

/** "93.8 %", or "—" when there is no value (no validation images). */
export function pct(v) {
	return typeof v === 'number' && Number.isFinite(v) ? `${(100 * v).toFixed(1)} %` : '—';
}

/** The buttons and the progress of the run. */
export function RunControls({ settings }) {
	const now = live.value;
	const problem = trainProblem.value;
	const invalid = Object.keys(settingErrors.value).length > 0;
	const run = latestRun();
	return (
		<div class="run-controls">
			<div class="buttons" role="group" aria-label="training">
				{!now && (
					<button type="button" class="button" data-testid="train" disabled={invalid} onClick={async () => {
						await settingsSettled();   // the value typed just before this click
						if (!Object.keys(settingErrors.value).length) startTraining();
					}}>
						Train
					</button>
				)}
				{now && now.status !== 'paused' && <button type="button" class="button" data-testid="pause" onClick={pauseTraining}>Pause</button>}
				{now?.status === 'paused' && <button type="button" class="button" data-testid="resume" onClick={resumeTraining}>Resume</button>}
				{now && <button type="button" class="button" data-testid="stop" onClick={stopTraining}>Stop</button>}
			</div>
			{invalid && <p class="setting-error" role="alert" data-testid="train-blocked">Fix the settings marked above to train.</p>}
			{problem && <p class="banner is-error" role="alert" data-testid="train-problem">{problem.message}</p>}
			{now && <Progress now={now} epochs={settings.epochs} />}
			{!now && <LastRun run={run} />}
		</div>
	);
}
