// A hook that runs a steps program whenever its inputs change and keeps the
// previous result on screen until the new one arrives (no flicker).
import { useEffect, useState } from 'preact/hooks';
import { runSteps } from './lesson.js';
import { pythonError } from '../../shared/format/python-error.js';

/**
 * @param {() => object[] | null} build returns the program, or null to skip
 * @param {any[]} deps re-run when these change
 * @returns {null | { steps: Array<{ ok: boolean, state?: object, error?: string }> } | { error: string }}
 */
export function useProgram(build, deps) {
	const [result, setResult] = useState(null);
	useEffect(() => {
		const steps = build();
		if (!steps) return undefined;
		let live = true;
		runSteps(steps).then(
			(r) => live && setResult(r),
			(err) => live && setResult({ error: err.message }),
		);
		return () => {
			live = false;
		};
	}, deps);
	return result;
}

/** The first failing step of a run, as Python prints the error, or null. */
export function firstError(result) {
	if (!result) return null;
	if (result.error) return result.error;
	const failed = result.steps.find((s) => !s.ok);
	return failed ? pythonError(failed.error, failed.type) : null;
}

/** The state of the last step that carried one. */
export function lastState(result) {
	const withState = result?.steps?.filter((s) => s.ok && s.state) ?? [];
	return withState.length ? withState[withState.length - 1].state : null;
}
