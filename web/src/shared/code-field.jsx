// Editable pieces of code: text fields that look like the code around them.

/**
 * An input styled as code that grows with its text.
 * @param {{ value: string, onInput: (text: string) => void, label: string,
 *           invalid?: boolean, testid?: string }} props
 */
export function CodeField({ value, onInput, label, invalid, testid }) {
	return (
		<input
			class="code-field"
			type="text"
			value={value}
			aria-label={label}
			aria-invalid={invalid ? 'true' : 'false'}
			data-testid={testid}
			spellcheck={false}
			autocomplete="off"
			autocapitalize="off"
			autocorrect="off"
			style={{ width: `calc(${Math.max(value.length, 2) + 0.5}ch + 10px)` }}
			onInput={(e) => onInput(e.currentTarget.value)}
		/>
	);
}

/**
 * A labelled switch that changes the code of a semantics cell.
 * @param {{ checked: boolean, onChange: (on: boolean) => void, children: any, testid?: string }} props
 */
export function CodeSwitch({ checked, onChange, children, testid }) {
	return (
		<label class="code-switch">
			<input type="checkbox" checked={checked} data-testid={testid} onChange={(e) => onChange(e.currentTarget.checked)} />
			<span class="code-switch-track" aria-hidden="true" />
			<span class="code-switch-text">{children}</span>
		</label>
	);
}
