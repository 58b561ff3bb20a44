// The webcam predictor's rules, without the DOM: one frame in the worker at a time (frames that
// arrive while it is busy are dropped, never queued), the rate of predictions over the last
// second, no predictions while the view is off screen or the tab hidden, and a sentence for each
// way getUserMedia fails. Guarded by tests/node/webcam-loop.test.mjs.

/**
 * Frames predicted per second over a sliding window of `windowMs`.
 * `tick(now)` records one prediction; `fps(now)` reads the rate.
 */
export class FpsMeter {
	constructor(windowMs = 1000) {
		this.windowMs = windowMs;
		this.times = [];
	}

	tick(now) {
		this.times.push(now);
		this.#trim(now);
	}

	fps(now) {
		this.#trim(now);
		if (this.times.length < 2) return 0;
		const span = this.times[this.times.length - 1] - this.times[0];
		return span > 0 ? ((this.times.length - 1) * 1000) / span : 0;
	}

	#trim(now) {
		while (this.times.length && now - this.times[0] > this.windowMs) this.times.shift();
	}
}

/**
 * Runs `work(frame)` for frames offered while idle; a frame offered while busy is dropped
 * (`drop(frame)` lets the caller close it). Counts both. Waiting for the camera's next frame
 * after an answer would idle the worker up to a frame's time (33 ms at 30 fps): `onIdle` lets the
 * caller offer the newest frame at once.
 */
export class OneAtATime {
	/** `onIdle()` runs each time the worker is free again (the caller grabs the newest frame then). */
	constructor(work, drop = () => {}, onIdle = () => {}) {
		this.work = work;
		this.drop = drop;
		this.onIdle = onIdle;
		this.busy = false;
		this.done = 0;
		this.dropped = 0;
	}

	/** @returns {boolean} whether the frame was taken */
	offer(frame) {
		if (this.busy) {
			this.dropped += 1;
			this.drop(frame);
			return false;
		}
		this.busy = true;
		Promise.resolve()
			.then(() => this.work(frame))
			.catch(() => {})
			.finally(() => {
				this.busy = false;
				this.done += 1;
				this.onIdle();
			});
		return true;
	}
}

/**
 * Open while every condition is true (the video on screen, the tab visible): the loop predicts
 * only then, so a learner who scrolls away or switches tabs does not keep both cores busy.
 * `onOpen()` runs each time it opens again (the caller grabs a frame at once).
 */
export class ViewGate {
	constructor(onOpen = () => {}) {
		this.onOpen = onOpen;
		this.closedBy = new Set();
	}

	get open() {
		return this.closedBy.size === 0;
	}

	/** Sets one condition (`'on-screen'`, `'tab-visible'`…) true or false. */
	set(condition, ok) {
		const was = this.open;
		if (ok) this.closedBy.delete(condition);
		else this.closedBy.add(condition);
		if (!was && this.open) this.onOpen();
	}
}

/**
 * What to tell the learner when the camera cannot start (a DOMException from getUserMedia);
 * `again` says how to retry ('turn the webcam on again', 'hold the button again').
 */
export function cameraProblem(err, again = 'turn the webcam on again') {
	switch (err?.name) {
	case 'NotAllowedError':
	case 'SecurityError':
		return `The camera permission was denied. Allow the camera for this page in the browser’s site settings, then ${again}.`;
	case 'NotFoundError':
	case 'OverconstrainedError':
		return `No camera was found. Connect one (or pick an image instead), then ${again}.`;
	case 'NotReadableError':
	case 'AbortError':
		return 'The camera is in use by another application or could not start. Close that application, then try again.';
	case 'NoMediaDevices':
		return 'This browser offers no camera to this page (it needs a secure https:// page).';
	default:
		return `The camera could not start: ${err?.message ?? err}`;
	}
}
