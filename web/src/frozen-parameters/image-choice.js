// The picture the experiments run on: a bundled sample (assets/samples/, with
// their sources and licences in assets/README.md) or the learner's own file.
import { signal } from '@preact/signals';
import list from '../../../assets/samples/samples.json';

const urls = import.meta.glob('../../../assets/samples/*.{jpg,jpeg,png}', { query: '?url', import: 'default', eager: true });

/** The bundled samples: { file, title, source, licence, url }. */
export const SAMPLES = list.map((s) => ({ ...s, url: urls[`../../../assets/samples/${s.file}`] }));

/** The chosen image: { title, blob, url } (url: for an <img>). */
export const image = signal(null);

/** Chooses a bundled sample. */
export async function chooseSample(sample) {
	const blob = await (await fetch(sample.url)).blob();
	image.value = { title: sample.title, blob, url: sample.url, sample: sample.file };
}

/** Chooses the learner's own file (decoded, and refused if need be, by the engine worker). */
export function chooseFile(file) {
	if (image.value?.own) URL.revokeObjectURL(image.value.url);
	image.value = { title: file.name, blob: file, url: URL.createObjectURL(file), own: true };
}
