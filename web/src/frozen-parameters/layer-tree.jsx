// The layer tree: ResNet-18 nested as print(model) nests it, one row per module
// and per parameter tensor, with its output shape, parameter counts and a
// requires_grad toggle. An ARIA tree: one row in the tab order (roving
// tabindex), arrows move and open, Space toggles, Home/End jump; the search
// field filters by name or type and opens what matches.
import { useMemo, useRef, useState } from 'preact/hooks';
import { moduleState, toggled, under } from './freeze-state.js';

const fmt = (n) => n.toLocaleString('en-US');
const shapeText = (s) => (s?.length ? `[${s.join(', ')}]` : '');

/** Every row of the tree in display order: { id, index, kind, level, node, parent }. */
function allRows(tree) {
	const rows = [];
	const walk = (m, level, parent) => {
		const me = m.path || '(model)';
		rows.push({ id: me, index: rows.length, kind: 'module', level, node: m, parent });
		for (const p of m.parameters) rows.push({ id: p.name, index: rows.length, kind: 'param', level: level + 1, node: p, parent: me });
		for (const c of m.children) walk(c, level + 1, me);
	};
	walk(tree, 1, null);
	return rows;
}

/** The repr line of a module row: "(conv1): Conv2d(3, 64, ...)" as print(model) writes it. */
function reprLine(m) {
	const head = m.path ? `(${m.name}): ` : '';
	const leaf = m.children.length === 0;
	return `${head}${m.type}${leaf ? `(${m.extra_repr})` : ''}`;
}

/** Mixed-state checkbox for a module or a parameter. */
function Toggle({ state, label, onChange }) {
	if (state === 'none') return <span class="toggle-none" aria-hidden="true" />;
	return (
		<input
			type="checkbox"
			class="freeze-toggle"
			tabIndex={-1}
			aria-label={label}
			checked={state === 'on'}
			indeterminate={state === 'mixed'}
			onClick={(e) => { e.stopPropagation(); onChange(state !== 'on'); }}
			onChange={() => {}}
		/>
	);
}

/**
 * @param {{ tree: object, onTrainable: (names: string[]) => void, grads?: Map<string, number|null> | null,
 *           stoppedAt?: string | null }} props
 *   grads: each parameter's .grad norm (null = None) from the last who-gets-grad run;
 *   stoppedAt: the first module backward reached
 */
export function LayerTree({ tree, onTrainable, grads = null, stoppedAt = null }) {
	const [open, setOpen] = useState(() => new Set(['(model)']));
	const [query, setQuery] = useState('');
	const [active, setActive] = useState('(model)');
	const listRef = useRef(null);
	const rows = useMemo(() => allRows(tree), [tree]);
	const byId = useMemo(() => new Map(rows.map((r) => [r.id, r])), [rows]);

	const q = query.trim().toLowerCase();
	const visible = useMemo(() => {
		if (q) {
			const keep = new Set();
			for (const r of rows) {
				const hay = `${r.id} ${r.kind === 'module' ? r.node.type : ''}`.toLowerCase();
				if (!hay.includes(q)) continue;
				for (let id = r.id; id; id = byId.get(id)?.parent) keep.add(id);
			}
			return rows.filter((r) => keep.has(r.id));
		}
		return rows.filter((r) => {
			for (let p = r.parent; p; p = byId.get(p).parent) if (!open.has(p)) return false;
			return true;
		});
	}, [rows, byId, open, q]);

	const toggle = (path, on) => onTrainable(toggled(tree, path === '(model)' ? '' : path, on));
	const expandable = (r) => r.kind === 'module' && (r.node.children.length > 0 || r.node.parameters.length > 0);
	const isOpen = (r) => (q ? true : open.has(r.id));
	const setOpenTo = (id, on) => setOpen((s) => { const n = new Set(s); if (on) n.add(id); else n.delete(id); return n; });

	// Focus moves at once (keys can come faster than frames); a row that is not
	// rendered yet (just revealed) gets it on the next frame.
	const focusRow = (id) => {
		setActive(id);
		const find = () => listRef.current?.querySelector(`[data-row="${CSS.escape(id)}"]`);
		if (find()) find().focus();
		else requestAnimationFrame(() => find()?.focus());
	};
	const onKey = (e, r) => {
		const i = visible.findIndex((v) => v.id === r.id);
		const go = (j) => { e.preventDefault(); if (visible[j]) focusRow(visible[j].id); };
		switch (e.key) {
		case 'ArrowDown': return go(i + 1);
		case 'ArrowUp': return go(i - 1);
		case 'Home': return go(0);
		case 'End': return go(visible.length - 1);
		case 'ArrowRight':
			e.preventDefault();
			if (expandable(r) && !isOpen(r)) setOpenTo(r.id, true);
			else if (expandable(r)) go(i + 1);
			return undefined;
		case 'ArrowLeft':
			e.preventDefault();
			if (expandable(r) && isOpen(r) && !q) setOpenTo(r.id, false);
			else if (r.parent) focusRow(r.parent);
			return undefined;
		case 'Enter':
			e.preventDefault();
			if (expandable(r) && !q) setOpenTo(r.id, !isOpen(r));
			return undefined;
		case ' ': {
			e.preventDefault();
			const state = r.kind === 'module' ? moduleState(r.node) : r.node.requires_grad ? 'on' : 'off';
			if (state !== 'none') toggle(r.id, state !== 'on');
			return undefined;
		}
		default:
			return undefined;
		}
	};

	const stopIndex = stoppedAt ? byId.get(stoppedAt)?.index ?? -1 : -1;
	return (
		<div class="layer-tree">
			<input type="search" class="tree-search" placeholder="Search: layer4, bn, Conv2d, fc.weight…" aria-label="search the layers"
				value={query} data-testid="tree-search" onInput={(e) => setQuery(e.currentTarget.value)} />
			<div class="tree-head" aria-hidden="true">
				<span>module / parameter</span><span>output / shape</span><span>params</span><span>trainable</span>
			</div>
			<ul role="tree" aria-label="ResNet-18 layers" class="tree" ref={listRef} data-testid="layer-tree">
				{visible.map((r) => {
					const isModule = r.kind === 'module';
					const state = isModule ? moduleState(r.node) : r.node.requires_grad ? 'on' : 'off';
					const grad = !isModule && grads ? grads.get(r.id) : undefined;
					// before the stop in forward order, and not one of the modules that contain it
					const notEntered = grads && r.index < stopIndex && !under(stoppedAt, r.id === '(model)' ? '' : r.id);
					return (
						<li
							key={r.id}
							role="treeitem"
							data-row={r.id}
							data-testid={`row-${r.id}`}
							aria-level={r.level}
							aria-expanded={expandable(r) ? isOpen(r) : undefined}
							aria-checked={state === 'none' ? undefined : state === 'mixed' ? 'mixed' : state === 'on'}
							aria-selected={active === r.id}
							tabIndex={active === r.id ? 0 : -1}
							class={`tree-row is-${r.kind} is-${state}${notEntered ? ' is-not-entered' : ''}${stoppedAt === r.id && grads ? ' is-stop' : ''}`}
							style={{ '--level': r.level - 1 }}
							onKeyDown={(e) => onKey(e, r)}
							onClick={() => { setActive(r.id); if (expandable(r) && !q) setOpenTo(r.id, !isOpen(r)); }}
						>
							<span class="tree-name">
								<span class="tree-caret" aria-hidden="true">{expandable(r) ? (isOpen(r) ? '▾' : '▸') : ''}</span>
								<Toggle state={state} label={`requires_grad for ${r.id}`} onChange={(on) => toggle(r.id, on)} />
								<code>{isModule ? reprLine(r.node) : r.id.split('.').pop()}</code>
								{grad !== undefined && (
									<span class={`grad-mark ${grad == null ? 'is-none' : 'is-set'}`} data-testid={`grad-${r.id}`}>
										{grad == null ? '.grad None' : `.grad ‖·‖ ${grad.toPrecision(4)}`}
									</span>
								)}
								{stoppedAt === r.id && grads && <span class="stop-mark">backward stops here</span>}
							</span>
							<span class="tree-shape">{isModule ? shapeText(r.node.output_shape) : shapeText(r.node.shape)}</span>
							<span class="tree-count">{fmt(isModule ? r.node.num_params : r.node.numel)}</span>
							<span class="tree-count">{fmt(isModule ? r.node.trainable_params : r.node.requires_grad ? r.node.numel : 0)}</span>
						</li>
					);
				})}
			</ul>
			{q && visible.length === 0 && <p class="muted">No layer or parameter matches “{query}”.</p>}
		</div>
	);
}

