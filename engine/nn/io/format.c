// format.c: telling weights files from one another and from pictures
// (gb_format.h).
#include "gb_format.h"

#include <string.h>

static int starts_with(const uint8_t *buf, size_t len, const char *magic, size_t n) {
    return len >= n && memcmp(buf, magic, n) == 0;
}

gb_file_format gb_file_format_of(const uint8_t *buf, size_t len) {
    if (!buf) return GB_FILE_UNKNOWN;
    if (starts_with(buf, len, "PK\x03\x04", 4)) return GB_FILE_PTH;
    if (starts_with(buf, len, "\x89PNG\r\n\x1a\n", 8)) return GB_FILE_PNG;
    if (starts_with(buf, len, "\xff\xd8\xff", 3)) return GB_FILE_JPEG;
    if (starts_with(buf, len, "GIF8", 4)) return GB_FILE_GIF;
    if (len >= 2 && buf[0] == 0x80 && buf[1] <= 5) return GB_FILE_LEGACY_PTH;   // PROTO opcode, pickle protocol 0..5
    if (len >= 9 && buf[8] == '{') return GB_FILE_SAFETENSORS;
    return GB_FILE_UNKNOWN;
}

const char *gb_file_format_name(gb_file_format f) {
    switch (f) {
    case GB_FILE_PTH: return "pth";
    case GB_FILE_LEGACY_PTH: return "legacy pth";
    case GB_FILE_SAFETENSORS: return "safetensors";
    case GB_FILE_PNG: return "PNG";
    case GB_FILE_JPEG: return "JPEG";
    case GB_FILE_GIF: return "GIF";
    default: return "unknown";
    }
}

gb_status gb_weights_read(const uint8_t *buf, size_t len, gb_state_dict *out, gb_file_format *format) {
    const gb_file_format f = gb_file_format_of(buf, len);
    if (format) *format = f;
    switch (f) {
    case GB_FILE_PTH: return gb_pth_read(buf, len, out);
    case GB_FILE_SAFETENSORS: return gb_safetensors_read(buf, len, out);
    case GB_FILE_LEGACY_PTH:
        return gb_set_error(GB_ERR_FORMAT, "this .pth is in PyTorch's legacy (pre-1.6) format, which is not "
                                           "read here: re-save it with torch.save(model.state_dict(), f) in "
                                           "PyTorch 1.6 or later (the zip format)");
    case GB_FILE_PNG: case GB_FILE_JPEG: case GB_FILE_GIF:
        return gb_set_error(GB_ERR_FORMAT, "this is a %s image, not a weights file: expected a PyTorch .pth (zip) "
                                           "or a .safetensors file", gb_file_format_name(f));
    default:
        return gb_set_error(GB_ERR_FORMAT, "not a weights file: expected a PyTorch .pth (zip) or a .safetensors file");
    }
}

gb_status gb_weights_write(const gb_state_dict *sd, gb_file_format format, uint8_t **out, size_t *len) {
    switch (format) {
    case GB_FILE_PTH: return gb_pth_write(sd, out, len);
    case GB_FILE_SAFETENSORS: return gb_safetensors_write(sd, out, len);
    default: return gb_set_error(GB_ERR_ARG, "weights are written as pth or safetensors, not %s", gb_file_format_name(format));
    }
}
