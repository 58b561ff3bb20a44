// node-child.mjs: a bench configuration in a fresh Node process (so that each one measures its own
// heap and starts from cold caches), read back from the JSON it prints. Node only: the page's
// benches use bench/ort/bench-core.mjs, which imports nothing from Node.
import { spawn } from 'node:child_process';

/**
 * Runs `node ...args`, killed after `timeoutMs`. Resolves to stdout's lines, the exit code and
 * `tail`: the last three lines of stderr (or of stdout when stderr is empty), for an error row.
 */
export function runNodeChild(args, timeoutMs) {
	return new Promise((resolve) => {
		const p = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
		let out = '';
		let err = '';
		p.stdout.on('data', (d) => { out += d; });
		p.stderr.on('data', (d) => { err += d; });
		const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
		p.on('close', (code) => {
			clearTimeout(timer);
			resolve({ lines: out.trim().split('\n'), code, tail: (err || out).trim().split('\n').slice(-3).join(' | ') });
		});
	});
}

/**
 * `node script --child ...child [--runs R] [--warmup W]`: a bench script's own child mode, whose
 * last stdout line is its JSON. Resolves to that, or to `errorRow(message)` when it printed none.
 */
export async function runChildMode(script, child, { runs, warmup, timeoutMs }, errorRow) {
	const args = [script, '--child', ...child.map(String)];
	if (runs != null) args.push('--runs', String(runs));
	if (warmup != null) args.push('--warmup', String(warmup));
	const { lines, code, tail } = await runNodeChild(args, timeoutMs);
	try {
		return JSON.parse(lines.at(-1));
	} catch {
		return errorRow(`exit ${code}: ${tail}`);
	}
}
