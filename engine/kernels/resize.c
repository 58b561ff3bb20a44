// resize.c: Pillow's bilinear resize, bit for bit (the rules: resize.h).
// Guarded by tests/resnet/frozen.test.mjs ("preprocessing": every byte of
// 14 images against Pillow 9.4) and tests/kernels/test_resize.c (edge sizes
// under the sanitizers).
#include "resize.h"

#include <math.h>
#include <string.h>

// One pass's filter: for output pixel i, `count[i]` taps from input pixel
// `first[i]`, with fixed-point weights weight[i·ksize + t].
typedef struct taps {
    int ksize;
    int32_t *first, *count, *weight;
} taps;

static double support_of(int in_size, int out_size) {
    double scale = (double)in_size / out_size;
    return scale < 1.0 ? 1.0 : scale;   // the tent widens only when shrinking
}

// Room for the largest tent: ceil(support) pixels on each side and one more.
static int ksize_of(int in_size, int out_size) { return 2 * (int)ceil(support_of(in_size, out_size)) + 1; }

static double tent(double x) {
    x = x < 0.0 ? -x : x;
    return x < 1.0 ? 1.0 - x : 0.0;
}

// w · 2²², rounded half away from zero (Pillow's normalize_coeffs_8bpc).
static int32_t to_fixed(double w) {
    double scaled = w * (1 << GB_RESIZE_PRECISION_BITS);
    return (int32_t)(w < 0 ? -0.5 + scaled : 0.5 + scaled);
}

// The taps of every output pixel (Pillow's precompute_coeffs). NOTE: every
// expression keeps Pillow's order of operations in double; a reordered sum
// or a float would move some weight by one unit and some pixel by one level.
static void make_taps(int in_size, int out_size, taps *tp, double *w) {
    const double scale = (double)in_size / out_size;
    const double support = support_of(in_size, out_size);
    const double ss = 1.0 / (scale < 1.0 ? 1.0 : scale);
    for (int i = 0; i < out_size; i++) {
        double center = (i + 0.5) * scale;
        int lo = (int)(center - support + 0.5);   // truncation, as Pillow's (int) cast
        int hi = (int)(center + support + 0.5);
        if (lo < 0) lo = 0;
        if (hi > in_size) hi = in_size;
        double sum = 0.0;
        for (int t = 0; t < hi - lo; t++) {
            w[t] = tent((t + lo - center + 0.5) * ss);
            sum += w[t];
        }
        int32_t *out = tp->weight + (size_t)i * tp->ksize;
        for (int t = 0; t < tp->ksize; t++) out[t] = t < hi - lo ? to_fixed(sum != 0.0 ? w[t] / sum : w[t]) : 0;
        tp->first[i] = lo;
        tp->count[i] = hi - lo;
    }
}

// acc >> 22 clipped to a byte; acc started at 2²¹, so this rounds.
static uint8_t clip8(int32_t acc) {
    if (acc < 0) return 0;
    int32_t v = acc >> GB_RESIZE_PRECISION_BITS;
    return (uint8_t)(v > 255 ? 255 : v);
}

// One output pixel of either pass: out = clip8(2²¹ + Σ_t src[t·step] · w[t]) for
// R, G and B, `count` taps `step` bytes apart (a pixel's stride across a row,
// a row's across a column).
static inline void taps_rgb(const uint8_t *src, size_t step, const int32_t *w, int count, uint8_t *out) {
    int32_t r = 1 << (GB_RESIZE_PRECISION_BITS - 1), g = r, b = r;
    for (int t = 0; t < count; t++) {
        r += src[t * step + 0] * w[t];
        g += src[t * step + 1] * w[t];
        b += src[t * step + 2] * w[t];
    }
    out[0] = clip8(r);
    out[1] = clip8(g);
    out[2] = clip8(b);
}

// Rows [y0, y1) of `in` (stride `ch` bytes a pixel) → rows [0, y1 − y0) of
// `out` (out_w RGB pixels each).
static void pass_horizontal(const uint8_t *in, int in_w, int ch, int y0, int y1, const taps *tp, uint8_t *out,
                            int out_w) {
    for (int y = y0; y < y1; y++) {
        const uint8_t *row = in + (size_t)y * in_w * ch;
        uint8_t *dst = out + (size_t)(y - y0) * out_w * 3;
        for (int x = 0; x < out_w; x++) {
            taps_rgb(row + (size_t)tp->first[x] * ch, ch, tp->weight + (size_t)x * tp->ksize, tp->count[x], dst + 3 * x);
        }
    }
}

// Columns of `in` (w pixels a row, stride `ch`; taps' `first` counted from
// row `y0`) → out (out_h, w, 3).
static void pass_vertical(const uint8_t *in, int w, int ch, int y0, const taps *tp, uint8_t *out, int out_h) {
    const size_t row_bytes = (size_t)w * ch;
    for (int y = 0; y < out_h; y++) {
        const int32_t *k = tp->weight + (size_t)y * tp->ksize;
        const uint8_t *col0 = in + (size_t)(tp->first[y] - y0) * row_bytes;
        uint8_t *dst = out + (size_t)y * w * 3;
        for (int x = 0; x < w; x++) {
            taps_rgb(col0 + (size_t)x * ch, row_bytes, k, tp->count[y], dst + 3 * x);
        }
    }
}

static size_t align8(size_t n) { return (n + 7) & ~(size_t)7; }

static size_t taps_bytes(int in_size, int out_size) {
    return align8(sizeof(int32_t) * (size_t)out_size * (2 + (size_t)ksize_of(in_size, out_size)));
}

size_t gb_u8_resize_bilinear_work_bytes(int in_w, int in_h, int out_w, int out_h) {
    int kmax = ksize_of(in_w, out_w) > ksize_of(in_h, out_h) ? ksize_of(in_w, out_w) : ksize_of(in_h, out_h);
    return taps_bytes(in_w, out_w) + taps_bytes(in_h, out_h) + align8(sizeof(double) * (size_t)kmax) +
           align8((size_t)out_w * in_h * 3);
}

// Carves a pass's taps out of `*mem` and fills them.
static taps taps_from(char **mem, int in_size, int out_size, double *scratch) {
    taps tp = { .ksize = ksize_of(in_size, out_size) };
    tp.first = (int32_t *)*mem;
    tp.count = tp.first + out_size;
    tp.weight = tp.count + out_size;
    *mem += taps_bytes(in_size, out_size);
    make_taps(in_size, out_size, &tp, scratch);
    return tp;
}

void gb_u8_resize_bilinear__scalar(const uint8_t *in, int in_w, int in_h, int ch, uint8_t *out, int out_w,
                                   int out_h, void *work) {
    char *mem = work;
    int kmax = ksize_of(in_w, out_w) > ksize_of(in_h, out_h) ? ksize_of(in_w, out_w) : ksize_of(in_h, out_h);
    double *scratch = (double *)(mem + taps_bytes(in_w, out_w) + taps_bytes(in_h, out_h));
    uint8_t *mid = (uint8_t *)scratch + align8(sizeof(double) * (size_t)kmax);
    taps h = taps_from(&mem, in_w, out_w, scratch);
    taps v = taps_from(&mem, in_h, out_h, scratch);
    const int need_h = out_w != in_w, need_v = out_h != in_h;
    if (!need_h && !need_v) {   // same size: Pillow copies
        for (size_t i = 0; i < (size_t)in_w * in_h; i++) memcpy(out + 3 * i, in + ch * i, 3);
        return;
    }
    if (!need_v) {              // rows only
        pass_horizontal(in, in_w, ch, 0, in_h, &h, out, out_w);
        return;
    }
    if (!need_h) {              // columns only, straight from the input
        pass_vertical(in, in_w, ch, 0, &v, out, out_h);
        return;
    }
    // Only the rows some vertical tap reads: from the first output row's first
    // tap to the last one's last (as Pillow's ybox_first, ybox_last).
    int y0 = v.first[0], y1 = v.first[out_h - 1] + v.count[out_h - 1];
    pass_horizontal(in, in_w, ch, y0, y1, &h, mid, out_w);
    pass_vertical(mid, out_w, 3, y0, &v, out, out_h);
}
