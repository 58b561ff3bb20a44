// The autograd lesson's engine: the small wasm module (no ResNet-18) in its own
// worker, started as soon as the page loads. Its build is what the header's
// badge shows.
import { signal } from '@preact/signals';
import { EngineClient } from './client.js';

/** `?build=mt|simd|scalar` forces an engine build on every lesson. */
export const forcedBuild = new URLSearchParams(location.search).get('build');

/** Engine build info from init ({ build, module, simd, threads }) or null while loading. */
export const engineInfo = signal(null);
/** A message when the engine could not start. */
export const engineError = signal(null);

const client = new EngineClient();
const ready = client
	.init({ build: forcedBuild, module: 'lesson' })
	.then((info) => (engineInfo.value = info))
	.catch((err) => {
		engineError.value = err.message;
		throw err;
	});

/**
 * Runs a steps program once the engine is up.
 * @param {object[]} steps
 */
export async function runSteps(steps) {
	await ready;
	return client.run(steps);
}
