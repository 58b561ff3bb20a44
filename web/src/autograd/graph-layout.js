// Lays out the backward graph with dagre, top to bottom like torchviz:
// Q's grad_fn on top, AccumulateGrad leaves at the bottom.
import dagre from '@dagrejs/dagre';
import { list } from '../shared/format/values.js';

/** Pixel size of one monospace character at the node font size (12px). */
export const CHAR = 7.4;
export const LINE = 17;
const PAD_X = 14;
const PAD_Y = 10;

/** The text lines a node shows (besides its name). */
export function nodeLines(node) {
	return {
		label: node.name === 'AccumulateGrad' ? `${node.label} (leaf)` : node.label,
		value: `value ${list(node.value)}`,
		grad: `grad  ${node.grad == null ? '—' : list(node.grad)}`,
	};
}

/**
 * @param {{ nodes: object[], edges: [number, number][] }} graph state.graph
 * @returns {{ width: number, height: number, nodes: object[], edges: object[] }}
 */
export function layoutGraph(graph) {
	const g = new dagre.graphlib.Graph();
	g.setGraph({ rankdir: 'TB', nodesep: 22, ranksep: 40, marginx: 4, marginy: 4 });
	g.setDefaultEdgeLabel(() => ({}));
	for (const n of graph.nodes) {
		const lines = nodeLines(n);
		const chars = Math.max(n.name.length + 7, ...Object.values(lines).map((s) => s.length));
		g.setNode(String(n.id), { width: Math.ceil(chars * CHAR + 2 * PAD_X), height: 4 * LINE + 2 * PAD_Y - 6 });
	}
	for (const [from, to] of graph.edges) g.setEdge(String(from), String(to));
	dagre.layout(g);
	const nodes = graph.nodes.map((n) => {
		const box = g.node(String(n.id));
		return { ...n, x: box.x - box.width / 2, y: box.y - box.height / 2, width: box.width, height: box.height };
	});
	const edges = graph.edges.map(([from, to]) => ({ from, to, points: g.edge(String(from), String(to)).points }));
	const { width, height } = g.graph();
	return { width, height, nodes, edges };
}

/** An SVG path through dagre's edge points (a smooth curve when it bends). */
export function edgePath(points) {
	const [p0, ...rest] = points;
	let d = `M${p0.x},${p0.y}`;
	if (rest.length === 1) return `${d} L${rest[0].x},${rest[0].y}`;
	for (let i = 0; i < rest.length - 1; i++) {
		const c = rest[i];
		const n = rest[i + 1];
		const end = i === rest.length - 2 ? n : { x: (c.x + n.x) / 2, y: (c.y + n.y) / 2 };
		d += ` Q${c.x},${c.y} ${end.x},${end.y}`;
	}
	return d;
}

export { PAD_X, PAD_Y };
