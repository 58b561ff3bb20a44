// webcam-button.jsx: "hold to record" into a class. While the button is held (pointer, or Space /
// Enter), a frame is taken a few times a second and added like a file; releasing it, or the
// section going away, stops the camera. Each way getUserMedia fails gets its own sentence.
// Guarded by tests/e2e/studio-data.spec.mjs ("webcam").
import { useEffect, useRef, useState } from 'preact/hooks';

import { cameraProblem } from './webcam-loop.js';

const FPS = 4;

/**
 * @param {{ label: string, onFrames: (files: File[]) => Promise<unknown> }} props
 */
export function WebcamButton({ label, onFrames }) {
	const video = useRef(null);
	const stream = useRef(null);
	const timer = useRef(0);
	const held = useRef(false);
	const [state, setState] = useState({ live: false, taken: 0, message: '' });

	const stop = () => {
		held.current = false;
		clearInterval(timer.current);
		stream.current?.getTracks().forEach((t) => t.stop());
		stream.current = null;
		if (video.current) video.current.srcObject = null;
		setState((s) => ({ ...s, live: false }));
	};
	useEffect(() => stop, []);

	const grab = async () => {
		const v = video.current;
		if (!v || !v.videoWidth) return;
		const c = new OffscreenCanvas(v.videoWidth, v.videoHeight);
		c.getContext('2d').drawImage(v, 0, 0);
		const blob = await c.convertToBlob({ type: 'image/jpeg', quality: 0.92 });
		const name = `webcam-${new Date().toISOString().replace(/[:.]/g, '-')}.jpg`;
		setState((s) => ({ ...s, taken: s.taken + 1 }));
		await onFrames([new File([blob], name, { type: 'image/jpeg' })]);
	};

	const start = async () => {
		if (held.current) return;
		held.current = true;
		if (!navigator.mediaDevices?.getUserMedia) {
			held.current = false;
			setState({ live: false, taken: 0, message: 'This browser cannot use a camera on this page (it needs a secure https:// page).' });
			return;
		}
		setState({ live: false, taken: 0, message: '' });
		try {
			const s = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 640 }, height: { ideal: 480 } }, audio: false });
			if (!held.current) { s.getTracks().forEach((t) => t.stop()); return; }
			stream.current = s;
			video.current.srcObject = s;
			await video.current.play();
			setState((st) => ({ ...st, live: true }));
			grab();
			timer.current = setInterval(grab, 1000 / FPS);
		} catch (err) {
			stop();
			setState({ live: false, taken: 0, message: cameraProblem(err, 'hold the button again') });
		}
	};
	const key = (e, down) => {
		if (e.key !== ' ' && e.key !== 'Enter') return;
		e.preventDefault();
		if (down && !e.repeat) start();
		if (!down) stop();
	};
	return (
		<div class="studio-webcam">
			<button
				type="button"
				class={`chip${state.live ? ' is-recording' : ''}`}
				aria-pressed={state.live}
				aria-label={`Hold to record from the webcam into ${label}`}
				onPointerDown={(e) => { e.currentTarget.setPointerCapture?.(e.pointerId); start(); }}
				onPointerUp={stop}
				onPointerCancel={stop}
				onKeyDown={(e) => key(e, true)}
				onKeyUp={(e) => key(e, false)}
				onBlur={stop}
			>
				{state.live ? `Recording… ${state.taken}` : 'Hold to record (webcam)'}
			</button>
			<video ref={video} class={state.live ? 'studio-webcam-preview' : 'visually-hidden'} muted playsInline aria-hidden="true" />
			{state.message && <p class="banner is-error" role="alert" data-testid="camera-message">{state.message}</p>}
		</div>
	);
}
