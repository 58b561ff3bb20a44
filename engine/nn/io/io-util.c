// io-util.c: dtype conversion, CRC-32 and a growable byte buffer for the
// weights readers and writers.
#include "gb_io_internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

int gb_dtype_size(int dtype_src) {
    static const int sizes[GB_DT_COUNT] = {4, 2, 2, 8, 8, 4, 2, 1, 1, 1};
    return (dtype_src >= 0 && dtype_src < GB_DT_COUNT) ? sizes[dtype_src] : 0;
}

static float f32_from_bits(uint32_t bits) {
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

// IEEE half: 1 sign, 5 exponent (bias 15), 10 mantissa bits. Normal numbers
// rebias the exponent (+112); subnormals are m * 2^-24; exponent 31 is inf/NaN.
static float f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1f, man = h & 0x3ff;
    if (exp == 0) {
        float mag = ldexpf((float)man, -24);
        return sign ? -mag : mag;
    }
    if (exp == 31) return f32_from_bits(sign | 0x7f800000u | man << 13);
    return f32_from_bits(sign | (exp + 112) << 23 | man << 13);
}

float gb_load_as_f32(const uint8_t *p, int dtype_src) {
    switch (dtype_src) {
    case GB_DT_F32: return f32_from_bits(gb_rd32(p));
    case GB_DT_F16: return f16_to_f32(gb_rd16(p));
    case GB_DT_BF16: return f32_from_bits((uint32_t)gb_rd16(p) << 16);  // the top half of an f32
    case GB_DT_F64: {
        uint64_t bits = gb_rd64(p);
        double d;
        memcpy(&d, &bits, sizeof d);
        return (float)d;
    }
    case GB_DT_I64: return (float)(int64_t)gb_rd64(p);
    case GB_DT_I32: return (float)(int32_t)gb_rd32(p);
    case GB_DT_I16: return (float)(int16_t)gb_rd16(p);
    case GB_DT_I8: return (float)(int8_t)p[0];
    case GB_DT_U8: return (float)p[0];
    case GB_DT_BOOL: return p[0] ? 1.0f : 0.0f;
    }
    GB_ASSERT(0, "unknown dtype %d", dtype_src);
    return 0;
}

static int host_is_little_endian(void) {
    const uint16_t one = 1;
    return *(const uint8_t *)&one == 1;
}

void gb_convert_to_f32(const uint8_t *src, int dtype_src, int64_t numel, float *dst) {
    if (dtype_src == GB_DT_F32 && host_is_little_endian()) {   // the common case: a plain copy
        memcpy(dst, src, (size_t)numel * sizeof(float));
        return;
    }
    int size = gb_dtype_size(dtype_src);
    for (int64_t i = 0; i < numel; i++) dst[i] = gb_load_as_f32(src + i * size, dtype_src);
}

void gb_store_i64(uint8_t *p, float v) {
    int64_t i;
    if (isnan(v)) i = 0;
    else if (v >= 9.2233720368547758e18f) i = INT64_MAX;
    else if (v <= -9.2233720368547758e18f) i = INT64_MIN;
    else i = (int64_t)llrintf(v);
    gb_wr64(p, (uint64_t)i);
}

uint8_t *gb_bytes_grow(gb_bytes *b, size_t n) {
    if (b->failed) return NULL;
    if (n > b->cap - b->len) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap - b->len < n) {
            if (cap > SIZE_MAX / 2) { b->failed = 1; return NULL; }
            cap *= 2;
        }
        uint8_t *grown = realloc(b->data, cap);
        if (!grown) { b->failed = 1; return NULL; }
        b->data = grown;
        b->cap = cap;
    }
    uint8_t *at = b->data + b->len;
    b->len += n;
    return at;
}

void gb_bytes_put(gb_bytes *b, const void *src, size_t n) {
    uint8_t *at = gb_bytes_grow(b, n);
    if (at && n) memcpy(at, src, n);
}

void gb_bytes_printf(gb_bytes *b, const char *fmt, ...) {
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    GB_ASSERT(k >= 0 && (size_t)k < sizeof small, "gb_bytes_printf: text too long");
    gb_bytes_put(b, small, (size_t)k);
}

// CRC-32 (ISO-HDLC, as zip and zlib use), "slicing by 8": table[k][b] is
// the CRC of byte b followed by k zero bytes, so eight input bytes cost eight
// independent lookups instead of a chain of eight. A checkpoint is checked
// once per load; byte at a time, that was most of the load time.
static uint32_t crc_table[8][256];

static void crc_init(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
        crc_table[0][i] = c;
    }
    for (int t = 1; t < 8; t++)
        for (int i = 0; i < 256; i++)
            crc_table[t][i] = crc_table[0][crc_table[t - 1][i] & 0xff] ^ (crc_table[t - 1][i] >> 8);
}

uint32_t gb_crc32(uint32_t crc, const uint8_t *p, size_t n) {
    if (!crc_table[0][1]) crc_init();   // NOTE: loaders run on one thread
    crc = ~crc;
    for (; n >= 8; n -= 8, p += 8) {
        uint32_t lo = crc ^ gb_rd32(p), hi = gb_rd32(p + 4);
        crc = crc_table[7][lo & 0xff] ^ crc_table[6][(lo >> 8) & 0xff] ^ crc_table[5][(lo >> 16) & 0xff] ^
              crc_table[4][lo >> 24] ^ crc_table[3][hi & 0xff] ^ crc_table[2][(hi >> 8) & 0xff] ^
              crc_table[1][(hi >> 16) & 0xff] ^ crc_table[0][hi >> 24];
    }
    while (n--) crc = crc_table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

// Length of the valid UTF-8 sequence at s (at most `avail` bytes), 0 if invalid
// (overlong forms, surrogates and code points above U+10FFFF are invalid).
size_t gb_utf8_len(const uint8_t *s, size_t avail) {
    unsigned c = s[0];
    size_t n;
    uint32_t cp, min;
    if (c < 0x80) return 1;
    if ((c & 0xe0) == 0xc0) { n = 2; cp = c & 0x1f; min = 0x80; }
    else if ((c & 0xf0) == 0xe0) { n = 3; cp = c & 0x0f; min = 0x800; }
    else if ((c & 0xf8) == 0xf0) { n = 4; cp = c & 0x07; min = 0x10000; }
    else return 0;
    if (n > avail) return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    return n;
}

int gb_utf8_valid(const uint8_t *s, size_t n) {
    for (size_t i = 0; i < n;) {
        size_t k = gb_utf8_len(s + i, n - i);
        if (!k) return 0;
        i += k;
    }
    return 1;
}
