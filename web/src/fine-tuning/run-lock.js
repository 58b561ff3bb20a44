// One run trains at a time across the tabs of this page: the run holds a Web Lock
// (navigator.locks, same origin) while it trains. A second tab's Train or Resume is refused with
// a message instead of training the same project twice, and a tab that opens while another trains
// does not take that run for interrupted (it was not: its tab is still training it).
// Guarded by tests/e2e/studio-train.spec.mjs ("two tabs").
const NAME = 'gradbox-studio-training';
const locks = () => globalThis.navigator?.locks ?? null;

/**
 * Runs `fn` holding the training lock. Returns false (and does not run `fn`) when another tab
 * holds it. Without Web Locks (an old browser) `fn` runs unguarded.
 */
export async function withTrainingLock(fn) {
	const l = locks();
	if (!l) {
		await fn();
		return true;
	}
	return l.request(NAME, { ifAvailable: true }, async (lock) => {
		if (!lock) return false;
		await fn();
		return true;
	});
}

/** Whether a tab of this page is training now (this one included). */
export async function trainingSomewhere() {
	const l = locks();
	if (!l?.query) return false;
	const { held = [] } = await l.query();
	return held.some((h) => h.name === NAME);
}

export const TRAINING_ELSEWHERE = 'A run is training in another tab of this page. Stop it there (or close that tab), then train here.';
