// Live predictions from the webcam: frames are grabbed at the camera's rate, one at a time is sent
// to the worker as a transferred ImageBitmap (frames that come while it is busy are dropped), the
// bars and the rate of predictions update as answers come back. Predictions pause while the video
// is off screen or the tab hidden (the camera stays on). The stream stops when the toggle is
// turned off or the section leaves the page.
// Guarded by tests/e2e/studio-webcam.spec.mjs (fake camera) and studio-train.spec.mjs (no camera).
import { useEffect, useRef, useState } from 'preact/hooks';
import { predict } from './training-state.js';
import { ConfidenceBars } from './confidence-bars.jsx';
import { FpsMeter, OneAtATime, ViewGate, cameraProblem } from './webcam-loop.js';

async function openCamera() {
	if (!navigator.mediaDevices?.getUserMedia) throw Object.assign(new Error('no mediaDevices'), { name: 'NoMediaDevices' });
	return navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 640 }, height: { ideal: 480 } }, audio: false });
}

/** Runs the capture loop on `video` until the returned function is called. */
function startLoop(video, onResult, onPaused) {
	const meter = new FpsMeter();
	let stopped = false;
	const gate = new ViewGate(() => { onPaused(false); grab(); });
	const watch = (condition, ok) => {
		gate.set(condition, ok);
		if (!gate.open) onPaused(true);
	};
	const seen = new IntersectionObserver((entries) => watch('on-screen', entries.at(-1).isIntersecting));
	seen.observe(video);
	const tab = () => watch('tab-visible', document.visibilityState === 'visible');
	document.addEventListener('visibilitychange', tab);
	tab();
	const grab = () => {
		if (stopped || !gate.open || loop.busy || video.readyState < 2) return;
		createImageBitmap(video).then((b) => (stopped ? b.close() : loop.offer(b)), () => {});
	};
	const loop = new OneAtATime(async (bitmap) => {
		const r = await predict(bitmap, { transfer: [bitmap] });
		meter.tick(performance.now());
		if (!stopped) onResult({ top: r.top, ms: r.ms, prepMs: r.prepMs, fps: meter.fps(performance.now()), dropped: loop.dropped, done: loop.done + 1 });
	}, (bitmap) => bitmap.close(), grab);
	const next = () => {
		if (stopped) return;
		if (video.requestVideoFrameCallback) video.requestVideoFrameCallback(frame);
		else requestAnimationFrame(frame);
	};
	const frame = () => {
		grab();
		next();
	};
	next();
	return () => {
		stopped = true;
		seen.disconnect();
		document.removeEventListener('visibilitychange', tab);
	};
}

/** The webcam toggle, its video and its bars. */
export function WebcamPredict() {
	const video = useRef(null);
	const [on, setOn] = useState(false);
	const [problem, setProblem] = useState(null);
	const [live, setLive] = useState(null);
	const [paused, setPaused] = useState(false);
	useEffect(() => {
		if (!on) return undefined;
		let stream = null;
		let stopLoop = () => {};
		let cancelled = false;
		openCamera().then((s) => {
			if (cancelled) {
				s.getTracks().forEach((t) => t.stop());
				return;
			}
			stream = s;
			video.current.srcObject = s;
			video.current.play().catch(() => {});
			stopLoop = startLoop(video.current, setLive, setPaused);
		}, (err) => {
			setProblem(cameraProblem(err));
			setOn(false);
		});
		return () => {
			cancelled = true;
			stopLoop();
			setPaused(false);
			stream?.getTracks().forEach((t) => t.stop());
			if (video.current) video.current.srcObject = null;
		};
	}, [on]);
	return (
		<div class="webcam" data-testid="webcam" data-on={String(on)} data-predictions={live?.done ?? 0}>
			<label class="setting-toggle">
				<input type="checkbox" role="switch" data-testid="webcam-toggle" checked={on}
					onChange={(e) => { setProblem(null); setLive(null); setOn(e.currentTarget.checked); }} />
				{' '}Webcam, live
			</label>
			{problem && <p class="banner is-error" role="alert" data-testid="webcam-problem">{problem}</p>}
			<div hidden={!on} class="webcam-view">
				<video ref={video} muted playsInline width="224" height="168" aria-label="webcam" />
				{paused && <p role="status" data-testid="webcam-paused">Paused while the video is out of view.</p>}
				{live && !paused && (
					<div data-testid="webcam-result" data-fps={live.fps.toFixed(1)}>
						<p role="status"><span data-testid="webcam-fps">{live.fps.toFixed(1)}</span> predictions/s · {live.ms.toFixed(0)} ms forward + {live.prepMs.toFixed(0)} ms preprocessing in the engine worker</p>
						<ConfidenceBars top={live.top} testid="webcam-bars" />
					</div>
				)}
			</div>
		</div>
	);
}
