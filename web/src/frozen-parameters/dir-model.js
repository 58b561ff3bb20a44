// dir(model): Python's sorted list of a module's attributes. Most of it is
// torch.nn.Module's and ResNet's own (assets/resnet18_dir.json, written by
// assets/gen_resnet18_dir.py with the PyTorch release named there); the model's
// children come from the engine's tree, so a model with other children would
// list them.
import release from '../../../assets/resnet18_dir.json';

export const DIR_RELEASE = { torch: release.torch, torchvision: release.torchvision };

/** Python's string order (code points; the names are ASCII, so UTF-16 order is the same). */
const byCodePoint = (a, b) => (a < b ? -1 : a > b ? 1 : 0);

/** The attribute names of the model: the release's list with the tree's child names. */
export function dirNames(tree) {
	const names = new Set(release.dir);
	for (const child of tree.children) names.add(child.name);
	return [...names].sort(byCodePoint);
}

/** The list as IPython prints a long list: one repr per line, a space before each but the first. */
export function dirListing(tree) {
	return `[${dirNames(tree).map((n) => `'${n}'`).join(',\n ')}]`;
}
