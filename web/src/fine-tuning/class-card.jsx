// class-card.jsx: one class: its editable label (any text, shown as text), counts, the ways to
// add images (picker, drop of files or folders, paste, webcam), its images, and removal (asked
// first when it has images). Guarded by tests/e2e/studio-data.spec.mjs.
import { useState } from 'preact/hooks';
import { renameClass, removeClass, removeImage, moveImage } from './state.js';
import { addToClass, dropInto, activeClassId } from './studio-actions.js';
import { ThumbGrid } from './thumb-grid.jsx';
import { WebcamButton } from './webcam-button.jsx';

function LabelField({ cls, index }) {
	const [draft, setDraft] = useState(null);
	const [error, setError] = useState('');
	const commit = async () => {
		if (draft === null || draft === cls.label) { setDraft(null); setError(''); return; }
		try {
			await renameClass(cls.id, draft);
			setDraft(null);
			setError('');
		} catch (err) {
			// a storage failure is already said by the banner (state.js storageProblem)
			setError(err.name === 'StorageError' ? 'Not saved: see the message above.' : err.message);
		}
	};
	const errId = `class-name-error-${cls.id}`;
	return (
		<div class="studio-label">
			<input
				type="text"
				class="studio-label-input"
				aria-label={`Name of class ${index + 1}`}
				aria-invalid={error ? 'true' : undefined}
				aria-describedby={error ? errId : undefined}
				value={draft ?? cls.label}
				maxLength={400}
				onInput={(e) => setDraft(e.currentTarget.value)}
				onBlur={commit}
				onKeyDown={(e) => {
					if (e.key === 'Enter') commit();
					if (e.key === 'Escape') { setDraft(null); setError(''); }
				}}
			/>
			{error && <p id={errId} class="studio-field-error" role="alert">{error}</p>}
		</div>
	);
}

function RemoveClass({ cls, count }) {
	const [asking, setAsking] = useState(false);
	const go = () => removeClass(cls.id).catch(() => {});
	if (!asking) {
		return (
			<button type="button" class="link-button" aria-label={`Remove class ${cls.label}`} onClick={() => (count ? setAsking(true) : go())}>
				Remove class
			</button>
		);
	}
	return (
		<span role="alertdialog" aria-label={`Remove class ${cls.label}?`} class="studio-confirm">
			Remove “{cls.label}” and its {count} image{count === 1 ? '' : 's'}?{' '}
			<button type="button" class="button is-danger" onClick={go}>Remove</button>{' '}
			<button type="button" class="link-button" onClick={() => setAsking(false)}>Keep</button>
		</span>
	);
}

/**
 * @param {{ cls: { id, label }, index: number, items: object[], valIds: Set<string>,
 *   classes: object[], valCount: number }} props
 */
export function ClassCard({ cls, index, items, valIds, classes, valCount }) {
	const [dragging, setDragging] = useState(false);
	const active = activeClassId.value === cls.id;
	const pickId = `pick-${cls.id}`;
	return (
		<li
			class={`studio-class${dragging ? ' is-dragging' : ''}${active ? ' is-active' : ''}`}
			data-testid="class-card"
			data-class-id={cls.id}
			aria-label={`Class ${index + 1}: ${cls.label}`}
			onFocusIn={() => (activeClassId.value = cls.id)}
			onDragOver={(e) => { e.preventDefault(); e.dataTransfer.dropEffect = 'copy'; setDragging(true); }}
			onDragLeave={() => setDragging(false)}
			onDrop={(e) => { e.preventDefault(); e.stopPropagation(); setDragging(false); dropInto(e.dataTransfer, cls.id); }}
		>
			<div class="studio-class-head">
				<LabelField cls={cls} index={index} />
				<span class="studio-count" data-testid="class-count">
					{items.length} image{items.length === 1 ? '' : 's'}
					{items.length > 0 && <span class="muted"> · {items.length - valCount} train · {valCount} val</span>}
				</span>
				{classes.length > 1 && <RemoveClass cls={cls} count={items.length} />}
			</div>
			<div class="studio-add-row">
				<input
					id={pickId}
					class="visually-hidden"
					type="file"
					multiple
					accept="image/*"
					aria-label={`Add images to ${cls.label}`}
					onChange={async (e) => {
						const input = e.currentTarget;
						await addToClass(cls.id, input.files);
						input.value = '';
					}}
				/>
				<label class="chip" for={pickId}>Add images…</label>
				<WebcamButton label={cls.label} onFrames={(files) => addToClass(cls.id, files)} />
				<span class="muted studio-hint">or drop files / folders here{active ? ', or paste (Ctrl+V)' : ''}</span>
			</div>
			<ThumbGrid
				items={items}
				valIds={valIds}
				classes={classes}
				label={cls.label}
				onRemove={(id) => removeImage(id).catch(() => {})}
				onMove={(id, to) => moveImage(id, to).catch(() => {})}
			/>
		</li>
	);
}
