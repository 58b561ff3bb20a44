// thumbs.js: object URLs of the stored thumbnails, made once per image and revoked when the image
// goes (state.js calls forgetThumbs on remove, class removal, clear and open).
import { readImageField } from './project-db.js';

const thumbs = new Map();   // id → Promise<object URL | ''>

/** An object URL of the image's thumbnail (cached; revoked when the image goes). */
export function thumbUrl(id) {
	if (!thumbs.has(id)) {
		thumbs.set(id, readImageField(id, 'thumb').then((b) => (b ? URL.createObjectURL(b) : ''), () => ''));
	}
	return thumbs.get(id);
}

/** Revokes the URLs of these images (all of them when `ids` is omitted). */
export function forgetThumbs(ids = [...thumbs.keys()]) {
	for (const id of ids) {
		const p = thumbs.get(id);
		thumbs.delete(id);
		p?.then((u) => u && URL.revokeObjectURL(u));
	}
}
