// thumb-grid.jsx: a class's images as a virtualised grid. Only the rows in view (plus one above
// and below) are in the DOM, so a class of 1,000+ images scrolls smoothly and holds a few dozen
// <img> at a time; thumbnails are small WebP Blobs shown through cached object URLs (state.js
// thumbUrl, revoked when the image goes). Guarded by tests/e2e/studio-data.spec.mjs ("1,000 images").
import { useEffect, useRef, useState } from 'preact/hooks';
import { thumbUrl } from './state.js';

export const CELL = 96;        // px per cell, gap included (styles: .studio-thumb)
const VIEW_ROWS = 3.5;         // the grid's height in rows before it scrolls

/**
 * Move-to-class. NOTE: with 100 classes, 40 thumbnails in view would hold 4,000 <option>s,
 * rebuilt as rows scroll in; the list is filled only when the pointer or focus comes to it.
 */
function MoveSelect({ meta, classes, onMove }) {
	const [open, setOpen] = useState(false);
	const list = open ? classes : classes.filter((c) => c.id === meta.classId);
	return (
		<select aria-label={`Move ${meta.name} to class`} value={meta.classId} onFocus={() => setOpen(true)} onPointerEnter={() => setOpen(true)}
			onChange={(e) => onMove(meta.id, e.currentTarget.value)}>
			{list.map((c) => <option key={c.id} value={c.id}>{c.label}</option>)}
		</select>
	);
}

/** One thumbnail: the picture, a validation mark, remove and move-to-class. */
function Thumb({ meta, isVal, classes, onRemove, onMove, style }) {
	const [url, setUrl] = useState('');
	useEffect(() => {
		let live = true;
		thumbUrl(meta.id).then((u) => live && setUrl(u));
		return () => { live = false; };
	}, [meta.id]);
	return (
		<li class="studio-thumb" style={style} data-testid="thumb" data-image-id={meta.id} data-split={isVal ? 'val' : 'train'}>
			{url ? <img src={url} decoding="async" alt={meta.name} title={`${meta.name} · ${meta.width}×${meta.height}`} draggable={false} /> : <span class="studio-thumb-wait" aria-label={meta.name} />}
			{isVal && <span class="studio-val-mark" title="held out for validation">val</span>}
			<div class="studio-thumb-actions">
				<button type="button" class="studio-icon" aria-label={`Remove ${meta.name}`} onClick={() => onRemove(meta.id)}>×</button>
				<MoveSelect meta={meta} classes={classes} onMove={onMove} />
			</div>
		</li>
	);
}

/**
 * The grid.
 * @param {{ items: object[], valIds: Set<string>, classes: object[], label: string,
 *   onRemove: (id) => void, onMove: (id, classId) => void }} props
 */
export function ThumbGrid({ items, valIds, classes, label, onRemove, onMove }) {
	const box = useRef(null);
	const [width, setWidth] = useState(600);
	const [top, setTop] = useState(0);
	useEffect(() => {
		const el = box.current;
		if (!el) return undefined;
		const ro = new ResizeObserver(() => setWidth(el.clientWidth || 600));
		ro.observe(el);
		return () => ro.disconnect();
	}, []);
	if (!items.length) return <p class="muted studio-empty">No images yet.</p>;
	const cols = Math.max(1, Math.floor(width / CELL));
	const rows = Math.ceil(items.length / cols);
	const first = Math.max(0, Math.floor(top / CELL) - 1);
	const last = Math.min(rows, Math.ceil((top + VIEW_ROWS * CELL) / CELL) + 1);
	const shown = items.slice(first * cols, last * cols);
	return (
		<div
			ref={box}
			class="studio-grid-scroll"
			style={{ height: `${Math.min(rows, VIEW_ROWS) * CELL + 8}px` }}
			onScroll={(e) => setTop(e.currentTarget.scrollTop)}
			tabIndex={0}
			aria-label={`${label}: ${items.length} image${items.length === 1 ? '' : 's'}, scroll to see them`}
			data-testid="thumb-grid"
		>
			<ul class="studio-grid" style={{ height: `${rows * CELL}px` }} aria-label={`Images of ${label}`}>
				{shown.map((m, k) => {
					const i = first * cols + k;
					const style = { transform: `translate(${(i % cols) * CELL}px, ${Math.floor(i / cols) * CELL}px)` };
					return <Thumb key={m.id} meta={m} isVal={valIds.has(m.id)} classes={classes} onRemove={onRemove} onMove={onMove} style={style} />;
				})}
			</ul>
		</div>
	);
}
