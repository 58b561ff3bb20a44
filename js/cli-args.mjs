// cli-args.mjs: node:util's parseArgs, plus negative numbers as option values.
// parseArgs reads `--gradient -1,1` as the option --gradient followed by an option -1 and
// refuses it; like Python's argparse, an argument that starts with '-' and a digit (or '-.'
// and a digit) after an option that takes a value is that value: `--gradient -1,1` is
// `--gradient=-1,1`. Guarded by tests/node/cli.test.mjs ("negative numbers").
import { parseArgs } from 'node:util';

const NEGATIVE_NUMBER = /^-\.?\d/;

/** args with every `--name <negative number>` of a string option joined as `--name=<value>`. */
export function joinNegativeValues(args, options) {
	const out = [];
	for (let i = 0; i < args.length; i++) {
		const a = args[i];
		const name = a.startsWith('--') && !a.includes('=') ? a.slice(2) : null;
		if (name && options[name]?.type === 'string' && i + 1 < args.length && NEGATIVE_NUMBER.test(args[i + 1])) {
			out.push(`${a}=${args[++i]}`);
		} else {
			out.push(a);
		}
	}
	return out;
}

/** parseArgs({ args, options, ... }) that takes negative numbers as option values. */
export function parseOptions({ args, options, ...rest }) {
	return parseArgs({ args: joinNegativeValues(args, options), options, ...rest });
}
