// project-file-panel.jsx: save the whole project to one file, open one (checked completely, then
// asked before it replaces the current project), and start over.
// Guarded by tests/e2e/studio-data.spec.mjs ("project file").
import { useState } from 'preact/hooks';
import { project, images, runs, clearProject } from './state.js';
import { downloadProjectFile, readProjectFile } from './project-io.js';

const plural = (n, w) => `${n} ${w}${n === 1 ? '' : w.endsWith('s') ? 'es' : 's'}`;

/** The panel. */
export function ProjectFilePanel() {
	const [busy, setBusy] = useState('');
	const [message, setMessage] = useState(null);   // { text, error }
	const [pending, setPending] = useState(null);   // a checked file waiting for yes/no
	const [clearing, setClearing] = useState(false);
	const p = project.value;

	const save = async () => {
		setBusy('Saving…');
		try {
			const blob = await downloadProjectFile();
			setMessage({ text: `Saved (${(blob.size / 1e6).toFixed(1)} MB).` });
		} catch (err) {
			setMessage({ text: `The project could not be saved: ${err.message}`, error: true });
		} finally {
			setBusy('');
		}
	};
	const open = async (e) => {
		const input = e.currentTarget;
		const file = input.files[0];
		input.value = '';
		if (!file) return;
		setPending(null);
		setBusy('Checking the file…');
		try {
			const ready = await readProjectFile(file, (d, t) => setBusy(`Checking the images: ${d} / ${t}`));
			setPending(ready);
			setMessage(null);
		} catch (err) {
			setMessage({ text: `“${file.name}” cannot be opened. ${err.message}`, error: true });
		} finally {
			setBusy('');
		}
	};
	const replace = async () => {
		const ready = pending;
		setPending(null);
		try {
			await ready.apply();
			setMessage({ text: `Opened “${ready.name}”.` });
		} catch (err) {
			setMessage({ text: `The project could not be opened: ${err.message}`, error: true });
		}
	};
	return (
		<section aria-labelledby="h-project-file" class="studio-project-file">
			<h3 id="h-project-file" tabIndex={-1}>Keep your project</h3>
			<p class="note">
				Everything here is saved in this browser as you work, and comes back after a reload. To move it to another browser or keep a
				copy, save it as one file: classes, images, settings and every run’s curves and weights.
			</p>
			<div class="studio-settings-row">
				<button type="button" class="button" onClick={save} disabled={!!busy}>Save project file</button>
				<input id="open-project-file" class="visually-hidden" type="file" accept=".zip,application/zip" aria-label="Open project file" onChange={open} />
				<label class="chip" for="open-project-file">Open project file…</label>
				<button type="button" class="link-button" onClick={() => setClearing(true)}>Start over…</button>
			</div>
			{busy && <p class="note" role="status">{busy}</p>}
			{message && <p class={message.error ? 'banner is-error' : 'note'} role={message.error ? 'alert' : 'status'} data-testid="project-file-message">{message.text}</p>}
			{pending && (
				<div role="alertdialog" aria-label="Replace the current project?" class="studio-confirm" data-testid="confirm-open">
					<p>
						Replace the current project ({plural(p.classes.length, 'class')}, {plural(images.value.length, 'image')}, {plural(runs.value.length, 'run')}) with
						“{pending.name}” ({plural(pending.classes, 'class')}, {plural(pending.images, 'image')}, {plural(pending.runs, 'run')})?
					</p>
					<button type="button" class="button is-danger" onClick={replace}>Replace</button>{' '}
					<button type="button" class="link-button" onClick={() => setPending(null)}>Cancel</button>
				</div>
			)}
			{clearing && (
				<div role="alertdialog" aria-label="Start over?" class="studio-confirm">
					<p>Remove every class, image and run of this project from this browser? (Save a project file first to keep a copy.)</p>
					<button type="button" class="button is-danger" onClick={() => { setClearing(false); clearProject().catch(() => {}); }}>Remove everything</button>{' '}
					<button type="button" class="link-button" onClick={() => setClearing(false)}>Cancel</button>
				</div>
			)}
		</section>
	);
}
