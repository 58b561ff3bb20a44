// gb_format.h: what a file is, from its first bytes (its magic number), and
// reading weights whatever their format.
//
//   "PK\x03\x04"                a zip: PyTorch's .pth since torch 1.6
//   0x80, then a protocol <= 5  a bare pickle: the legacy (pre-1.6) .pth
//   byte 8 is '{'               safetensors: a little-endian u64 header length, then JSON
//   "\x89PNG\r\n\x1a\n", "\xff\xd8\xff", "GIF8"    a picture, not weights
//
// NOTE: the pictures are told apart only to make the message plainer (a
// learner who drops a photo on the weights box); anything that is not a
// .pth or a safetensors file is refused either way. The zip and picture
// magics are tested before safetensors' one-byte rule, so a zip whose byte 8
// happens to be '{' is still a zip. Guarded by tests/io/test_format.c.
#ifndef GB_FORMAT_H
#define GB_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "gb_state_dict.h"

typedef enum gb_file_format {
    GB_FILE_UNKNOWN = 0,
    GB_FILE_PTH,           // torch.save's zip
    GB_FILE_LEGACY_PTH,    // torch.save's pre-1.6 pickle stream (refused: re-save it)
    GB_FILE_SAFETENSORS,
    GB_FILE_PNG,
    GB_FILE_JPEG,
    GB_FILE_GIF,
} gb_file_format;

// The format of the `len` bytes at `buf` (buf may be NULL when len is 0).
gb_file_format gb_file_format_of(const uint8_t *buf, size_t len);
// "pth", "legacy pth", "safetensors", "PNG", "JPEG", "GIF" or "unknown".
const char *gb_file_format_name(gb_file_format f);

// Reads .pth (zip) or .safetensors bytes into `out`, told apart by
// gb_file_format_of; any other format is GB_ERR_FORMAT with a message that
// says what the bytes are and what is expected. *format (may be NULL) gets
// the format found.
gb_status gb_weights_read(const uint8_t *buf, size_t len, gb_state_dict *out, gb_file_format *format);
// Writes `sd` as GB_FILE_PTH or GB_FILE_SAFETENSORS (GB_ERR_ARG for any other
// format). `*out` is malloc'd; free() it.
gb_status gb_weights_write(const gb_state_dict *sd, gb_file_format format, uint8_t **out, size_t *len);

#endif
