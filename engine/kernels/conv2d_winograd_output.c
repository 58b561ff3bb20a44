// conv2d_winograd_output.c: Winograd's output transform, y = A^T M A for
// every tile, stored into y (or added to it: dx accumulates).
#include "conv2d_winograd_internal.h"

// A^T m, the 1-D transform of F(4x4, 3x3) used on columns and then on rows:
// 6 values in, 4 out (each line's expression in the comment beside it).
static inline void wino4_at(const v128_t m[6], v128_t o[4]) {
    const v128_t p12 = wasm_f32x4_add(m[1], m[2]), n12 = wasm_f32x4_sub(m[1], m[2]);
    const v128_t p34 = wasm_f32x4_add(m[3], m[4]), n34 = wasm_f32x4_sub(m[3], m[4]);
    o[0] = wasm_f32x4_add(wasm_f32x4_add(m[0], p12), p34);                                    // m0 + p12 + p34
    o[1] = wasm_f32x4_add(n12, wasm_f32x4_mul(wasm_f32x4_splat(2.0f), n34));                  // n12 + 2 n34
    o[2] = wasm_f32x4_add(p12, wasm_f32x4_mul(wasm_f32x4_splat(4.0f), p34));                  // p12 + 4 p34
    o[3] = wasm_f32x4_add(wasm_f32x4_add(n12, wasm_f32x4_mul(wasm_f32x4_splat(8.0f), n34)), m[5]);   // n12 + 8 n34 + m5
}

// y block = A^T m A for every tile, split over output channels, 4 tiles
// at a time (lane i = tile i: M holds the tiles as consecutive columns).
// Row r of the 4 blocks comes out as m vectors o[k] (column k of each tile),
// and each row is stored as soon as it is made (all rows at once would not
// fit in the registers). A group of 4 tiles in one tile row whose outputs lie
// inside y stores rows as whole vectors; any other group (at the image's
// right or bottom edge, across two tile rows or images, or the batch's last
// n < 4 tiles) tile by tile, clipped to y. The same arithmetic either way,
// so the same bits.
typedef struct out_tiles {
    int n, group;     // tiles; 1: one tile row, inside y
    int oc;           // their output channel
    float *y[4];      // the top-left output of each tile's block
    int rows[4], cols[4];   // each block's outputs inside y
} out_tiles;

static inline void output_row(const wino_job *j, const out_tiles *ot, int r, const v128_t *o) {
    const int m = j->m, ow = j->s->OW;
    if (ot->group) {   // the 4m outputs of this row are consecutive
        float *row = ot->y[0] + (size_t)r * ow;
        v128_t out[4];
        if (m == 2) {   // columns 2i and 2i + 1 of tile i, interleaved
            out[0] = wasm_i32x4_shuffle(o[0], o[1], 0, 4, 1, 5);
            out[1] = wasm_i32x4_shuffle(o[0], o[1], 2, 6, 3, 7);
        } else {        // out[i]: the 4 outputs of tile i in this row
            transpose4(o, out);
        }
        for (int i = 0; i < m; i++) {
            if (j->accumulate) out[i] = wasm_f32x4_add(wasm_v128_load(row + 4 * i), out[i]);
            if (j->epilogue) out[i] = epilogue4(j->epilogue, ot->oc, out[i]);
            wasm_v128_store(row + 4 * i, out[i]);
        }
        return;
    }
    float b[4][4] __attribute__((aligned(16)));   // b[k][i]: column k of tile i
    for (int k = 0; k < m; k++) wasm_v128_store(b[k], j->epilogue ? epilogue4(j->epilogue, ot->oc, o[k]) : o[k]);
    for (int i = 0; i < ot->n; i++) {
        if (r >= ot->rows[i]) continue;
        float *row = ot->y[i] + (size_t)r * ow;
        for (int k = 0; k < ot->cols[i]; k++) row[k] = j->accumulate ? row[k] + b[k][i] : b[k][i];
    }
}

// The 4 tiles whose M[0] is at mt (members plane floats apart).
static inline void output_tiles(const wino_job *j, const float *mt, size_t plane, const out_tiles *ot) {
    if (j->m == 2) {                               // F(2x2): y = A^T m A
        v128_t a[2][4];
        for (int q = 0; q < 4; q++) {              // a = A^T m
            const v128_t m0 = wasm_v128_load(mt + q * plane), m1 = wasm_v128_load(mt + (4 + q) * plane);
            const v128_t m2 = wasm_v128_load(mt + (8 + q) * plane), m3 = wasm_v128_load(mt + (12 + q) * plane);
            a[0][q] = wasm_f32x4_add(wasm_f32x4_add(m0, m1), m2);
            a[1][q] = wasm_f32x4_sub(wasm_f32x4_sub(m1, m2), m3);
        }
        for (int r = 0; r < 2; r++) {              // y = a A, row by row
            const v128_t zero = wasm_f32x4_splat(0.0f);   // o[2], o[3]: unread for F(2x2)
            const v128_t o[4] = { wasm_f32x4_add(wasm_f32x4_add(a[r][0], a[r][1]), a[r][2]),
                                  wasm_f32x4_sub(wasm_f32x4_sub(a[r][1], a[r][2]), a[r][3]), zero, zero };
            output_row(j, ot, r, o);
        }
        return;
    }
    v128_t a[4][6];                                // F(4x4): down each of the 6 columns,
    for (int q = 0; q < 6; q++) {
        v128_t col[6], o[4];
        for (int r = 0; r < 6; r++) col[r] = wasm_v128_load(mt + (r * 6 + q) * plane);
        wino4_at(col, o);
        for (int r = 0; r < 4; r++) a[r][q] = o[r];
    }
    for (int r = 0; r < 4; r++) {                  // then along each of the 4 rows
        v128_t o[4];
        wino4_at(a[r], o);
        output_row(j, ot, r, o);
    }
}

// y of output channels [o0, o1) for the tiles [t_lo, t_hi) (t_lo a multiple of 4);
// M's first row is channel j->o_first.
void gb_wino_output_range(const wino_job *j, int o0, int o1, int t_lo, int t_hi) {
    const gb_conv2d_shape *s = j->s;
    const int T = j->TH * j->TW, m = j->m, nm = members(m);
    const size_t plane = j->stride;
    for (int oc = o0; oc < o1; oc++) {
        const float *m_row = j->in + (size_t)(oc - j->o_first) * j->m_cols;   // M[0][oc][t - t_first]
        for (int t_all = t_lo; t_all < t_hi; t_all += 4) {
            const int t = t_all % T, th = t / j->TW, tw = t % j->TW;
            out_tiles ot = { .n = t_hi - t_all < 4 ? t_hi - t_all : 4, .oc = oc };
            ot.group = ot.n == 4 && t + 4 <= T && tw + 4 <= j->TW && m * th + m <= s->OH && m * tw + 4 * m <= s->OW;
            int img = t_all / T, ih = th, iw = tw;   // tile i's place, stepped from tile 0's
            for (int i = 0; i < ot.n; i++) {
                const int h = ih * m, w = iw * m;
                ot.y[i] = j->out + (size_t)img * j->image + (size_t)oc * s->OH * s->OW + (size_t)h * s->OW + w;
                ot.rows[i] = s->OH - h < m ? s->OH - h : m;
                ot.cols[i] = s->OW - w < m ? s->OW - w : m;
                if (++iw == j->TW) {
                    iw = 0;
                    if (++ih == j->TH) ih = 0, img++;
                }
            }
            const float *mt = m_row + (t_all - j->t_first);
            if (ot.n == 4) {
                output_tiles(j, mt, plane, &ot);
            } else {   // the last tiles: M's columns past t_hi are not this row's; zero lanes instead
                float mn[36 * 4] __attribute__((aligned(16)));
                for (int xi = 0; xi < nm; xi++)
                    for (int i = 0; i < 4; i++) mn[xi * 4 + i] = i < ot.n ? mt[xi * plane + i] : 0.0f;
                output_tiles(j, mn, 4, &ot);
            }
        }
    }
}

void gb_wino_output_task(void *ctx, int ith, int nth) {
    wino_job *j = ctx;
    int o0, o1;
    const int rows = j->o_count ? j->o_count : j->s->OC;
    while (gb_pool_take(&j->taken, rows, ith, nth, &o0, &o1))
        gb_wino_output_range(j, j->o_first + o0, j->o_first + o1, 0, j->TH * j->TW * j->images);
}
