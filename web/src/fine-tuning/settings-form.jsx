// The run's settings with PyTorch's names and defaults (js/finetune-settings.mjs): what trains,
// BatchNorm's mode, the optimizer and its arguments, epochs, batch size, seed, preprocessing. A
// value is saved (updateSettings) when it passes checkSettings; a refused one keeps its text in the
// field with the SettingsError next to it, and Train refuses to start while any is shown
// (studio-train.spec.mjs "an invalid setting").
import { useState } from 'preact/hooks';
import { signal } from '@preact/signals';
import { DEFAULT_SETTINGS, featureCache } from '../../../js/finetune-settings.mjs';
import { project, updateSettings } from './state.js';
import { featureCount } from './training-state.js';

/** Settings whose typed value was refused: field → { text, message }. */
export const settingErrors = signal({});

const NUMBERS = [
	['epochs', 'epochs', 'passes over the training images'],
	['batchSize', 'batch_size', 'DataLoader(batch_size=…)'],
	['lr', 'lr', 'learning rate'],
	['momentum', 'momentum', 'SGD only', (s) => s.optimizer === 'sgd'],
	['weightDecay', 'weight_decay', 'L2 penalty, added to the gradient'],
	['eps', 'eps', 'Adam only', (s) => s.optimizer === 'adam'],
	['seed', 'seed', 'torch.Generator().manual_seed(seed): the data order and the held-out split'],
	['headSeed', 'head seed', 'torch.manual_seed before model.fc = nn.Linear(512, N)'],
	['valFraction', 'validation fraction', 'held out per class (stratified)'],
];

const UNFREEZE = [['fc', 'fc only (backbone frozen)'], ['layer4,fc', 'layer4 + fc'], ['all', 'everything']];

let pending = Promise.resolve();

/**
 * Resolves once every setting typed so far is saved or refused. Train awaits it: a field is
 * committed on change, which fires when the click on Train takes the focus away from it.
 */
export const settingsSettled = () => pending;

function save(field, value, text) {
	pending = pending.then(() => saveNow(field, value, text));
	return pending;
}

async function saveNow(field, value, text) {
	try {
		await updateSettings({ [field]: value });
		const { [field]: _, ...rest } = settingErrors.value;
		settingErrors.value = rest;
	} catch (err) {
		const message = err.name === 'SettingsError' ? err.message : `${field}: not saved (${err.message})`;
		settingErrors.value = { ...settingErrors.value, [field]: { text, message } };
	}
}

function NumberField({ field, name, hint, settings }) {
	const error = settingErrors.value[field];
	const id = `set-${field}`;
	// what is being typed survives re-renders (progress, counts) until it is committed
	const [draft, setDraft] = useState(null);
	return (
		<div class="setting">
			<label for={id}><code>{name}</code></label>
			<input id={id} type="text" inputMode="decimal" data-testid={id} aria-invalid={error ? 'true' : 'false'}
				aria-describedby={`${id}-note`} value={draft ?? (error ? error.text : String(settings[field]))}
				onInput={(e) => setDraft(e.currentTarget.value)}
				onChange={(e) => {
					const raw = e.currentTarget.value;
					const text = raw.trim();
					save(field, text === '' ? NaN : Number(text), raw).then(() => setDraft(null));
				}} />
			<span id={`${id}-note`} class={error ? 'setting-error' : 'muted'} role={error ? 'alert' : undefined} data-testid={`${id}-note`}>
				{error ? error.message : `${hint}${settings[field] === DEFAULT_SETTINGS[field] ? ' (default)' : ''}`}
			</span>
		</div>
	);
}

function Choice({ field, name, options, settings }) {
	return (
		<fieldset class="setting-choice" data-testid={`set-${field}`}>
			<legend><code>{name}</code></legend>
			{options.map(([value, label]) => (
				<label key={value}>
					<input type="radio" name={`set-${field}`} value={value} checked={settings[field] === value}
						onChange={() => save(field, value, value)} />
					{' '}{label}
				</label>
			))}
		</fieldset>
	);
}

function Toggle({ field, label, settings, disabled = false }) {
	return (
		<label class="setting-toggle">
			<input type="checkbox" data-testid={`set-${field}`} checked={settings[field]} disabled={disabled}
				onChange={(e) => save(field, e.currentTarget.checked, String(e.currentTarget.checked))} />
			{' '}{label}
		</label>
	);
}

/** The feature cache's line: why it is off, or how it works. */
export function cacheNote(settings) {
	const fc = featureCache(settings);
	return fc.on
		? 'Feature cache on: each image’s 512 features are computed once (the backbone is frozen and in eval mode), then every epoch trains fc on them.'
		: `Feature cache off: ${fc.reason}.`;
}

/** The settings form; disabled while a run trains. */
export function SettingsForm({ disabled }) {
	const settings = { ...DEFAULT_SETTINGS, ...(project.value?.settings ?? {}) };
	const optimizerCode = settings.optimizer === 'sgd'
		? `optim.SGD(params, lr=${settings.lr}, momentum=${settings.momentum}, weight_decay=${settings.weightDecay}, nesterov=${settings.nesterov ? 'True' : 'False'})`
		: `optim.Adam(params, lr=${settings.lr}, betas=(${settings.betas.join(', ')}), eps=${settings.eps}, weight_decay=${settings.weightDecay})`;
	return (
		<form class="settings" aria-label="training settings" onSubmit={(e) => e.preventDefault()}>
			<fieldset disabled={disabled} class="settings-grid">
				<Choice field="unfreeze" name="what trains" options={UNFREEZE} settings={settings} />
				<Choice field="bnMode" name="BatchNorm" options={[['eval', 'eval(): running statistics'], ['train', 'train(): batch statistics']]} settings={settings} />
				<Choice field="optimizer" name="optimizer" options={[['sgd', 'SGD'], ['adam', 'Adam']]} settings={settings} />
				{NUMBERS.filter(([, , , when]) => !when || when(settings)).map(([field, name, hint]) => (
					<NumberField key={field} field={field} name={name} hint={hint} settings={settings} />
				))}
				{settings.optimizer === 'sgd' && <Toggle field="nesterov" label="nesterov=True" settings={settings} />}
				<Toggle field="augment" label="augmentation: RandomResizedCrop(224) + RandomHorizontalFlip()" settings={settings} />
				<Toggle field="keepWhole" label="keep the whole image: Resize((224, 224)), no crop" settings={settings} />
			</fieldset>
			<p class="muted"><code data-testid="optimizer-code">{optimizerCode}</code></p>
			<p class="cache-note" data-testid="cache-note" data-on={String(featureCache(settings).on)}>
				{cacheNote(settings)}
				{featureCache(settings).on && featureCount.value && (
					<> <span data-testid="cache-count">features: {featureCount.value.cached} / {featureCount.value.total}</span> cached.</>
				)}
			</p>
		</form>
	);
}
