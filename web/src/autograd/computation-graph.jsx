// The backward graph, drawn as torchviz draws it: one box per grad_fn,
// arrows from Q's node toward the leaves (the way gradients flow).
import { useMemo } from 'preact/hooks';
import { layoutGraph, edgePath, nodeLines, PAD_X, PAD_Y, LINE } from './graph-layout.js';

const TOP = 30; // room for the "Q" tag above the root

function kind(node, isRoot) {
	if (node.name === 'AccumulateGrad') return 'is-leaf';
	return isRoot ? 'is-root' : 'is-op';
}

function GraphNode({ node, isRoot, selected, onSelect }) {
	const lines = nodeLines(node);
	const select = () => onSelect(node.id);
	const onKeyDown = (e) => {
		if (e.key === 'Enter' || e.key === ' ') {
			e.preventDefault();
			select();
		}
	};
	const savedFreed = !!node.freed;
	return (
		<g
			class={`graph-node ${kind(node, isRoot)}${selected ? ' is-selected' : ''}`}
			transform={`translate(${node.x},${node.y + TOP})`}
			tabindex="0"
			role="button"
			aria-pressed={selected ? 'true' : 'false'}
			aria-label={`${node.name} ${node.label}: ${lines.value}, ${lines.grad}`}
			data-name={node.name}
			data-label={node.label}
			onClick={select}
			onKeyDown={onKeyDown}
		>
			<rect class="graph-node-box" width={node.width} height={node.height} rx="8" />
			<text x={PAD_X} y={PAD_Y + 13} class="graph-node-name">
				{node.name}
			</text>
			{savedFreed && (
				<text x={node.width - PAD_X} y={PAD_Y + 12} class="graph-node-freed" text-anchor="end">
					freed
				</text>
			)}
			<text x={PAD_X} y={PAD_Y + 13 + LINE} class="graph-node-label">
				{lines.label}
			</text>
			<text x={PAD_X} y={PAD_Y + 13 + 2 * LINE} class="graph-node-value">
				{lines.value}
			</text>
			<text x={PAD_X} y={PAD_Y + 13 + 3 * LINE} class="graph-node-grad">
				{lines.grad}
			</text>
		</g>
	);
}

/**
 * @param {{ graph: { nodes: object[], edges: number[][] }, rootName: string,
 *           selected?: number | null, onSelect?: (id: number) => void, title: string, testid?: string }} props
 */
export function ComputationGraph({ graph, rootName, selected = null, onSelect = () => {}, title, testid }) {
	const layout = useMemo(() => layoutGraph(graph), [graph]);
	if (!graph.nodes.length) {
		return <p class="graph-empty">No graph: {rootName} has no grad_fn.</p>;
	}
	const root = layout.nodes[0];
	const arrowId = `arrow-${testid ?? 'graph'}`;
	const width = Math.max(layout.width, 1);
	const height = layout.height + TOP;
	return (
		<div class="graph-scroll" data-testid={testid}>
			<svg class="graph" viewBox={`0 0 ${width} ${height}`} width={width} height={height} role="group" aria-label={title}>
				<defs>
					<marker id={arrowId} viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
						<path d="M0,0 L10,5 L0,10 z" class="graph-arrowhead" />
					</marker>
				</defs>
				<g class="graph-root-tag" transform={`translate(${root.x + root.width / 2},0)`}>
					<text y="13" text-anchor="middle">
						{rootName}
					</text>
					<path d="M0,18 L0,29" marker-end={`url(#${arrowId})`} class="graph-edge" />
				</g>
				{layout.edges.map((e) => (
					<path
						key={`${e.from}-${e.to}`}
						d={edgePath(e.points.map((p) => ({ x: p.x, y: p.y + TOP })))}
						class="graph-edge"
						marker-end={`url(#${arrowId})`}
					/>
				))}
				{layout.nodes.map((n, i) => (
					<GraphNode key={n.id} node={n} isRoot={i === 0} selected={selected === n.id} onSelect={onSelect} />
				))}
			</svg>
		</div>
	);
}
