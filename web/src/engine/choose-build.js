// Which wasm build this browser can run. Shared by the worker and the tests'
// expectations: threads need a cross-origin isolated page (SharedArrayBuffer),
// SIMD needs WebAssembly SIMD128, and the scalar build runs anywhere.

/** (func (result v128) i32.const 0 i8x16.splat i8x16.popcnt): validates only with SIMD128. */
const SIMD_PROBE = new Uint8Array([
	0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15,
	253, 98, 11,
]);

/** The builds we ship, best first. */
export const BUILDS = ['mt', 'simd', 'scalar'];

/**
 * Picks the engine build: a valid `forced` name wins (e.g. `?build=scalar`), then
 * 'mt' when the page is cross-origin isolated, then 'simd' when SIMD128 validates,
 * else 'scalar'. A forced 'mt' on a page that is not isolated falls back, since it
 * would throw "SharedArrayBuffer is not defined".
 * @param {string | null | undefined} forced
 * @param {{ isolated?: boolean, simd?: boolean }} [env] overrides for tests
 * @returns {'mt' | 'simd' | 'scalar'}
 */
export function chooseBuild(forced, env = {}) {
	const isolated = env.isolated ?? globalThis.crossOriginIsolated === true;
	const simd = env.simd ?? WebAssembly.validate(SIMD_PROBE);
	if (forced === 'scalar' || (forced === 'simd' && simd)) return forced;
	if (forced === 'mt' && isolated && simd) return 'mt';
	if (isolated && simd) return 'mt';
	return simd ? 'simd' : 'scalar';
}
