// The tutorial's own cells (In [2] to In [10]) with a, b, Q's expression and
// external_grad editable in place.
import { inputs, problems, good, setInput, stale } from './state/lesson.js';
import { NotebookCell, CellOutput, CaretError } from '../shared/notebook-cell.jsx';
import { CodeField } from '../shared/code-field.jsx';
import { Py } from '../shared/python-code.jsx';
import { CheckPrintCell } from './check-print-cell.jsx';

function FieldError({ field }) {
	const p = problems.value[field];
	if (!p) return null;
	const source = inputs.value[field];
	return <CaretError source={source} message={p.message} type={p.type} pos={p.pos} testid={`error-${field}`} />;
}

/** In [2]: the two leaf tensors. */
export function LeafTensorsCell() {
	const { a, b } = inputs.value;
	const p = problems.value;
	const code = (
		<>
			{'a = torch.tensor('}
			<CodeField value={a} label="values of a" invalid={!!p.a} testid="input-a" onInput={(t) => setInput('a', t)} />
			{', requires_grad='}
			<span class="py-keyword">True</span>
			{')\nb = torch.tensor('}
			<CodeField value={b} label="values of b" invalid={!!p.b} testid="input-b" onInput={(t) => setInput('b', t)} />
			{', requires_grad='}
			<span class="py-keyword">True</span>
			{')'}
		</>
	);
	return (
		<NotebookCell n={2} code={code}>
			<FieldError field="a" />
			<FieldError field="b" />
		</NotebookCell>
	);
}

/** In [5]: Q = <expression>, and Q's repr. */
export function ExpressionCell() {
	const q = inputs.value.q;
	const p = problems.value.q;
	const forward = good.value?.forward;
	const code = (
		<>
			<Py code={'# Creating another tensor Q from a and b\n'} />
			{'Q = '}
			<CodeField value={q} label="expression for Q" invalid={!!p} testid="input-q" onInput={(t) => setInput('q', t)} />
			{'\nQ'}
		</>
	);
	return (
		<NotebookCell n={5} code={code}>
			{p && <CaretError prefix="Q = " source={q} message={p.message} type={p.type} pos={p.pos} testid="error-q" />}
			{forward && (
				<CellOutput text={forward.repr} testid="out-q" stale={stale.value} label={stale.value ? 'last good result' : undefined} />
			)}
		</NotebookCell>
	);
}

/** In [6]: the external gradient and the backward call. */
export function BackwardCell() {
	const v = inputs.value.v;
	const p = problems.value.v;
	const code = (
		<>
			{'external_grad = torch.tensor('}
			<CodeField value={v} label="external gradient" invalid={!!p} testid="input-v" onInput={(t) => setInput('v', t)} />
			{')\nQ.backward(gradient=external_grad)'}
		</>
	);
	return (
		<NotebookCell n={6} code={code}>
			<FieldError field="v" />
		</NotebookCell>
	);
}

export { CheckPrintCell };
