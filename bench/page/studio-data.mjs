// studio-data.mjs: part 3's data side with 1,000 photos-sized images, in headless Chromium.
// Makes N JPEGs of 640×480 (gradients and noise, ~100 KB each, with sharp) in
// build/bench-studio-images, builds the page (its CSP lets it reach the e2e weights server, so
// part 2 loads its seeded random ResNet-18 as it would for a learner scrolling by), then:
//   intake     setInputFiles of all N into one class → every image checked, stored, thumbnailed
//   scroll     the class's grid scrolled through twice, 300 px per frame: frame gaps of pass 2
//   dom        thumbnails in the DOM (bounded by the virtualised grid)
//   reload     reload → project back from IndexedDB (ms to the class summary)
//   memory     the renderer's peak RSS (VmHWM) and the RSS of every Chromium process of this run
//              (browser, renderer, GPU, utility: the tab's whole cost) after intake and scrolling
// Not a test: figures for the README's speed table (issue 17: a 1,000-image project keeps the
// tab under 1.5 GB).   node bench/page/studio-data.mjs [--images N]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';
import sharp from 'sharp';

import { CHROMIUM_ARGS } from './run.mjs';
import { servePage } from './serve-page.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const argv = process.argv.slice(2);
const N = Number(argv.includes('--images') ? argv[argv.indexOf('--images') + 1] : 1000);

/** N distinct 640×480 JPEGs (made once, kept). */
async function images() {
	const dir = `${ROOT}build/bench-studio-images`;
	mkdirSync(dir, { recursive: true });
	const paths = [];
	const raw = Buffer.alloc(640 * 480 * 3);
	for (let i = 0; i < N; i++) {
		const p = `${dir}/photo-${String(i).padStart(4, '0')}.jpg`;
		paths.push(p);
		if (existsSync(p)) continue;
		let s = i * 2654435761 >>> 0;
		for (let k = 0; k < raw.length; k += 3) {
			s = (s * 1664525 + 1013904223) >>> 0;
			const x = (k / 3) % 640, y = Math.floor(k / 3 / 640);
			raw[k] = (x + i * 7) & 255; raw[k + 1] = (y * 2 + i) & 255; raw[k + 2] = (s >>> 24) & 255;
		}
		writeFileSync(p, await sharp(raw, { raw: { width: 640, height: 480, channels: 3 } }).jpeg({ quality: 85 }).toBuffer());
	}
	return paths;
}


/** Chromium processes started by this run: { pid, args } (descendants of this node process). */
function chromiumProcs() {
	const rows = execFileSync('ps', ['-eo', 'pid=,ppid=,args='], { encoding: 'utf8' }).trim().split('\n')
		.map((l) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(l)).filter(Boolean).map(([, pid, ppid, args]) => ({ pid: +pid, ppid: +ppid, args }));
	const mine = new Set([process.pid]);
	for (let grew = true; grew;) {
		grew = false;
		for (const r of rows) if (mine.has(r.ppid) && !mine.has(r.pid)) { mine.add(r.pid); grew = true; }
	}
	return rows.filter((r) => mine.has(r.pid) && /chrom/.test(r.args));
}
const pssKb = (pid) => { try { return Number(/Pss:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0); } catch { return 0; } };
const kb = (pid, key) => { try { return Number(new RegExp(`${key}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0); } catch { return 0; } };
function memory() {
	const procs = chromiumProcs();
	const renderers = procs.filter((p) => p.args.includes('--type=renderer'));
	return {
		rendererPeakMb: Math.max(...renderers.map((p) => kb(p.pid, 'VmHWM'))) / 1024,
		allRssMb: procs.reduce((a, p) => a + kb(p.pid, 'VmRSS'), 0) / 1024,
		// PSS counts a page shared by k processes as 1/k in each: the sum is the run's real cost
		allPssMb: procs.reduce((a, p) => a + pssKb(p.pid), 0) / 1024,
		each: procs.map((p) => `${(/--type=([\w-]+)/.exec(p.args)?.[1] ?? 'browser')} ${(pssKb(p.pid) / 1024).toFixed(0)}`).join(', '),
	};
}

const paths = await images();
const served = await servePage('bench-studio-dist');
const url = served.url;

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
const page = await (await browser.newContext()).newPage();
const openStudio = async () => {
	await page.getByRole('navigation', { name: 'Contents' }).getByRole('link', { name: 'Your classes and images' }).click();
	await page.locator('[data-testid=studio][data-ready=yes]').waitFor({ timeout: 60_000 });
};
await page.goto(url);
await openStudio();
const t0 = Date.now();
await page.getByLabel('Add images to Class 1').setInputFiles(paths);
await page.getByTestId('class-summary').filter({ hasText: `· ${N} images` }).waitFor({ timeout: 30 * 60_000 });
const intakeMs = Date.now() - t0;
const grid = page.getByTestId('thumb-grid').first();
const pass = () => grid.evaluate(async (el) => {
	const gaps = [];
	let last = performance.now();
	for (let y = 0; y <= el.scrollHeight; y += 300) {
		el.scrollTop = y;
		await new Promise(requestAnimationFrame);
		const now = performance.now();
		gaps.push(now - last);
		last = now;
	}
	el.scrollTop = 0;
	gaps.sort((a, b) => a - b);
	return { median: gaps[gaps.length >> 1], p90: gaps[Math.floor(gaps.length * 0.9)], worst: gaps[gaps.length - 1] };
});
await pass();
const scroll = await pass();
const dom = await grid.getByTestId('thumb').count();
const mem = memory();
const t1 = Date.now();
await page.reload();
await openStudio();
await page.getByTestId('class-summary').filter({ hasText: `· ${N} images` }).waitFor();
const reloadMs = Date.now() - t1;
const memAfter = memory();
await browser.close();
await served.close();

const f = (x) => x.toFixed(1);
console.log(`| what (${N} JPEGs of 640×480, ${(paths.reduce((a, p) => a + readFileSync(p).length, 0) / 1e6).toFixed(0)} MB; load ${loadavg()[0].toFixed(1)}) | figure |`);
console.log('|---|---|');
console.log(`| intake: checked, stored, thumbnailed | ${(intakeMs / 1000).toFixed(1)} s (${f(intakeMs / N)} ms/image) |`);
console.log(`| scroll through the grid, 300 px/frame, frame gap | median ${f(scroll.median)} ms, p90 ${f(scroll.p90)}, worst ${f(scroll.worst)} |`);
console.log(`| thumbnails in the DOM | ${dom} |`);
console.log(`| reload → project back from IndexedDB | ${(reloadMs / 1000).toFixed(1)} s |`);
console.log(`| memory after intake + scrolling | renderer peak ${mem.rendererPeakMb.toFixed(0)} MB; all Chromium processes: PSS ${mem.allPssMb.toFixed(0)} MB (RSS ${mem.allRssMb.toFixed(0)}) |`);
console.log(`| PSS by process after intake (MB) | ${mem.each} |`);
console.log(`| memory after reload | renderer peak ${memAfter.rendererPeakMb.toFixed(0)} MB; all Chromium processes: PSS ${memAfter.allPssMb.toFixed(0)} MB (RSS ${memAfter.allRssMb.toFixed(0)}) |`);
process.exit(0);
