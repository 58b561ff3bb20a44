// gb_io_internal.h: helpers shared by the weights readers and writers (not
// part of the engine API). Everything reads little-endian bytes one at a
// time, so unaligned input and big-endian hosts are both fine.
#ifndef GB_IO_INTERNAL_H
#define GB_IO_INTERNAL_H

#include <stdint.h>
#include <string.h>

#include "gb_state_dict.h"

static inline uint16_t gb_rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t gb_rd32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t gb_rd64(const uint8_t *p) {
    return (uint64_t)gb_rd32(p) | (uint64_t)gb_rd32(p + 4) << 32;
}
static inline void gb_wr16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void gb_wr32(uint8_t *p, uint32_t v) {
    gb_wr16(p, v);
    gb_wr16(p + 2, v >> 16);
}
static inline void gb_wr64(uint8_t *p, uint64_t v) {
    gb_wr32(p, (uint32_t)v);
    gb_wr32(p + 4, (uint32_t)(v >> 32));
}

// Bytes per element of a source dtype.
int gb_dtype_size(int dtype_src);
// One element at `p` as float32 (float16/bfloat16 widened exactly).
float gb_load_as_f32(const uint8_t *p, int dtype_src);
// `numel` contiguous elements.
void gb_convert_to_f32(const uint8_t *src, int dtype_src, int64_t numel, float *dst);
// Writes an int64 rounded from a float (NaN -> 0, clamped to the int64 range).
void gb_store_i64(uint8_t *p, float v);

// The growable output buffer of the writers.
typedef struct gb_bytes {
    uint8_t *data;
    size_t len, cap;
    int failed;          // an allocation failed; everything after is dropped
} gb_bytes;

uint8_t *gb_bytes_grow(gb_bytes *b, size_t n);  // n writable bytes at the end, or NULL
void gb_bytes_put(gb_bytes *b, const void *src, size_t n);
void gb_bytes_printf(gb_bytes *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

// Length of the valid UTF-8 sequence at s, 0 if invalid; and a whole-string check.
size_t gb_utf8_len(const uint8_t *s, size_t avail);
int gb_utf8_valid(const uint8_t *s, size_t n);

uint32_t gb_crc32(uint32_t crc, const uint8_t *p, size_t n);

#endif
