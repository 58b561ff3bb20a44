// gallery-dialog.jsx: a modal gallery of some images (openImagesById: the confusion matrix's
// cells, the most confidently wrong images). Full-size pictures are read from IndexedDB only
// while the dialog is open, and their object URLs revoked when it closes.
import { useEffect, useRef, useState } from 'preact/hooks';
import { gallery, images, imageBlob, project } from './state.js';

function Picture({ id }) {
	const [url, setUrl] = useState('');
	useEffect(() => {
		let u = '';
		let live = true;
		imageBlob(id).then((b) => { u = URL.createObjectURL(b); if (live) setUrl(u); else URL.revokeObjectURL(u); }, () => {});
		return () => { live = false; if (u) URL.revokeObjectURL(u); };
	}, [id]);
	const meta = images.value.find((m) => m.id === id);
	const cls = project.value?.classes.find((c) => c.id === meta?.classId);
	return (
		<figure class="studio-gallery-item" data-testid="gallery-image">
			{url ? <img src={url} alt={meta?.name ?? id} /> : <span class="studio-thumb-wait" />}
			<figcaption>{meta ? `${meta.name} · ${cls?.label ?? ''}` : 'removed since'}</figcaption>
		</figure>
	);
}

/** The dialog (rendered once by the room). */
export function GalleryDialog() {
	const ref = useRef(null);
	const g = gallery.value;
	useEffect(() => {
		const d = ref.current;
		if (!d) return;
		if (g && !d.open) d.showModal();
		if (!g && d.open) d.close();
	}, [g]);
	const shown = g ? g.ids.slice(0, 200) : [];
	return (
		<dialog ref={ref} class="studio-gallery" aria-label={g?.title ?? 'Images'} onClose={() => (gallery.value = null)} data-testid="gallery">
			{g && (
				<>
					<div class="studio-gallery-head">
						<h4>{g.title}</h4>
						<button type="button" class="button" onClick={() => (gallery.value = null)}>Close</button>
					</div>
					{g.ids.length === 0 ? <p class="muted">No images.</p> : (
						<div class="studio-gallery-grid">{shown.map((id) => <Picture key={id} id={id} />)}</div>
					)}
					{g.ids.length > shown.length && <p class="note">The first {shown.length} of {g.ids.length}.</p>}
				</>
			)}
		</dialog>
	);
}
