// Which engine build is running: threads N · SIMD, SIMD · 1 thread, or scalar.
import { engineInfo, engineError } from '../engine/lesson-engine.js';

/**
 * A short description of the build, e.g. "2 threads · SIMD".
 * @param {{ build: string, simd: boolean, threads: number }} info
 */
export function describeBuild(info) {
	const threads = info.threads > 1 ? `${info.threads} threads` : '1 thread';
	return `${threads} · ${info.simd ? 'SIMD' : 'scalar'}`;
}

/** The badge in the header. */
export function EngineBadge() {
	const info = engineInfo.value;
	const err = engineError.value;
	if (err) {
		return (
			<span class="engine-badge is-error" data-testid="engine-badge" data-build="error" title={err}>
				engine failed to load
			</span>
		);
	}
	if (!info) {
		return (
			<span class="engine-badge is-loading" data-testid="engine-badge" data-build="">
				loading engine…
			</span>
		);
	}
	return (
		<span class="engine-badge" data-testid="engine-badge" data-build={info.build} title={`wasm build “${info.build}”${info.version ? `, ${info.version}` : ''}`}>
			<span class="engine-badge-dot" aria-hidden="true" />
			C engine · wasm {info.build} · {describeBuild(info)}
		</span>
	);
}
