// conv2d_winograd_dw.c: dw of a 3x3 stride-1 convolution by Winograd: the
// tiles' sum is 16 (36) GEMMs over the tiles, between A dY A^T and V^T.
#include "conv2d_winograd_internal.h"

// --- backward for the weights ------------------------------------------------
// Forward per tile: Y = A^T M A with M = sum_c U_c .* V_c, U = G g G^T. So
//   dM = A dY A^T          (4x4 from the tile's 2x2 of dy; F(4x4): 6x6 from 4x4)
//   dU[o][c] = sum over tiles of dM[o] .* V[c]
//   dg = G^T dU G          (3x3 from 4x4; F(4x4): from 6x6)
// and summed over tiles, each of the 16 (36) positions xi is one GEMM again:
//   dU[xi]^T (OC x C) = dM[xi] (OC x T) . V[xi]^T (T x C),
// with the tiles as the inner dimension: 16·C·OC·T multiplies for the
// 36·C·OC·T of the direct sum (9 per output pixel, 4 pixels per tile); with
// 4x4 tiles, 36·C·OC·T for 16 pixels per tile, 4x fewer than direct.
// In the GEMM, dM is A (packed tiles of 5 output channels, then the tiles)
// and V^T is B (panels of 8 input channels, then the tiles), so the result is
// dU^T[xi] (OC x C). Both transforms run 4 tiles per vector, as the forward's
// input transform does, and 4x4 transposes put each tile's channels side by
// side for the stores.

// F(4x4)'s A (6x4, the transpose of A^T) on 4 values: 6 out (each line's
// expression in the comment beside it).
static inline void wino4_a(const v128_t y[4], v128_t o[6]) {
    const v128_t two = wasm_f32x4_splat(2.0f), four = wasm_f32x4_splat(4.0f), eight = wasm_f32x4_splat(8.0f);
    o[0] = y[0];
    o[1] = wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_add(y[0], y[1]), y[2]), y[3]);   // y0 + y1 + y2 + y3
    o[2] = wasm_f32x4_sub(wasm_f32x4_add(wasm_f32x4_sub(y[0], y[1]), y[2]), y[3]);   // y0 - y1 + y2 - y3
    o[3] = wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_add(y[0], wasm_f32x4_mul(two, y[1])), wasm_f32x4_mul(four, y[2])),
                          wasm_f32x4_mul(eight, y[3]));                             // y0 + 2 y1 + 4 y2 + 8 y3
    o[4] = wasm_f32x4_sub(wasm_f32x4_add(wasm_f32x4_sub(y[0], wasm_f32x4_mul(two, y[1])), wasm_f32x4_mul(four, y[2])),
                          wasm_f32x4_mul(eight, y[3]));                             // y0 - 2 y1 + 4 y2 - 8 y3
    o[5] = y[3];
}

// dM = A dY A^T of the n (<= 4) tiles tw.. of tile row th of one output
// channel's dy plane, lane i = tile i, member xi at dst[xi * 4]. Lanes past n
// are zero, and so is dy past its last row or column.
static inline void dm_group(const wino_job *j, const float *dy, int th, int tw, int n, float *dst) {
    const gb_conv2d_shape *s = j->s;
    const int m = j->m, h = th * m, w = tw * m;
    v128_t y[4][4];   // y[r][q]: row r, column q of the tiles' m x m windows of dy
    if (n == 4 && h + m <= s->OH && w + 4 * m <= s->OW) {   // inside dy: straight from its rows
        for (int r = 0; r < m; r++) {
            const float *row = dy + (size_t)(h + r) * s->OW + w;
            if (m == 2) {   // tile i's columns are floats 2i and 2i + 1
                const v128_t v0 = wasm_v128_load(row), v1 = wasm_v128_load(row + 4);
                y[r][0] = wasm_i32x4_shuffle(v0, v1, 0, 2, 4, 6);
                y[r][1] = wasm_i32x4_shuffle(v0, v1, 1, 3, 5, 7);
            } else {        // tile i's columns are floats 4i to 4i + 3
                const v128_t v[4] = { wasm_v128_load(row), wasm_v128_load(row + 4), wasm_v128_load(row + 8),
                                      wasm_v128_load(row + 12) };
                transpose4(v, y[r]);
            }
        }
    } else {   // at the edge: window by window
        float win[4][16] __attribute__((aligned(16)));
        for (int i = 0; i < 4; i++) {
            if (i < n) gb_wino_read_window(dy, s->OH, s->OW, h, w + i * m, m, m, win[i]);
            else memset(win[i], 0, sizeof win[i]);
        }
        for (int k = 0; k < m * m; k += 4) {   // floats k..k+3 of every window
            const v128_t v[4] = { wasm_v128_load(win[0] + k), wasm_v128_load(win[1] + k),
                                  wasm_v128_load(win[2] + k), wasm_v128_load(win[3] + k) };
            v128_t e[4];
            transpose4(v, e);
            for (int q = 0; q < 4; q++) y[(k + q) / m][(k + q) % m] = e[q];
        }
    }
    if (m == 2) {
        v128_t a[4][2];
        for (int q = 0; q < 2; q++) {              // a = A dY
            a[0][q] = y[0][q];
            a[1][q] = wasm_f32x4_add(y[0][q], y[1][q]);
            a[2][q] = wasm_f32x4_sub(y[0][q], y[1][q]);
            a[3][q] = wasm_f32x4_neg(y[1][q]);
        }
        for (int r = 0; r < 4; r++) {              // dM = a A^T
            wasm_v128_store(dst + (r * 4 + 0) * 4, a[r][0]);
            wasm_v128_store(dst + (r * 4 + 1) * 4, wasm_f32x4_add(a[r][0], a[r][1]));
            wasm_v128_store(dst + (r * 4 + 2) * 4, wasm_f32x4_sub(a[r][0], a[r][1]));
            wasm_v128_store(dst + (r * 4 + 3) * 4, wasm_f32x4_neg(a[r][1]));
        }
        return;
    }
    v128_t a[6][4];
    for (int q = 0; q < 4; q++) {                  // a = A dY, column by column
        const v128_t col[4] = { y[0][q], y[1][q], y[2][q], y[3][q] };
        v128_t o[6];
        wino4_a(col, o);
        for (int r = 0; r < 6; r++) a[r][q] = o[r];
    }
    for (int r = 0; r < 6; r++) {                  // dM = a A^T, row by row
        v128_t o[6];
        wino4_a(a[r], o);
        for (int k = 0; k < 6; k++) wasm_v128_store(dst + (r * 6 + k) * 4, o[k]);
    }
}

// dM[xi] of every tile, into packed A tiles [OC/5][tiles][5], split over the
// A tiles (5 output channels each). Channels past OC (the last tile's
// padding) are zero.
static void dm_task(void *ctx, int ith, int nth) {
    wino_job *j = ctx;
    const gb_conv2d_shape *s = j->s;
    const int T = j->TH * j->TW, T_all = T * j->images, nm = members(j->m);
    const int groups = (s->OC + GB_PPMM_MR - 1) / GB_PPMM_MR;
    float tmp[GB_PPMM_MR][36 * 4] __attribute__((aligned(16)));   // [channel][xi][tile]
    int g0, g1;
    while (gb_pool_take(&j->taken, groups, ith, nth, &g0, &g1))
        for (int g = g0; g < g1; g++) {
            const int o0 = g * GB_PPMM_MR;
            for (int img = 0; img < j->images; img++)
                for (int th = 0; th < j->TH; th++)
                    for (int tw = 0; tw < j->TW; tw += 4) {
                        const int n = j->TW - tw < 4 ? j->TW - tw : 4;
                        for (int k = 0; k < GB_PPMM_MR; k++) {
                            if (o0 + k >= s->OC) { memset(tmp[k], 0, sizeof tmp[k]); continue; }
                            const float *dy = j->in + (size_t)img * j->image + (size_t)(o0 + k) * s->OH * s->OW;
                            dm_group(j, dy, th, tw, n, tmp[k]);
                        }
                        const int t_all = img * T + th * j->TW + tw;
                        float *dst = j->out + ((size_t)g * T_all + t_all) * GB_PPMM_MR;
                        store_by_tile((const float(*)[36 * 4])tmp, GB_PPMM_MR, nm, n, dst, j->stride);
                    }
        }
}

// F(4x4)'s G^T (3x6) on 6 values: 3 out (each line's expression in the
// comment below it).
static inline void wino4_gt(const v128_t u[6], v128_t o[3]) {
    const v128_t quarter = wasm_f32x4_splat(0.25f), six = wasm_f32x4_splat(6.0f);
    const v128_t twelve = wasm_f32x4_splat(12.0f), twenty_four = wasm_f32x4_splat(24.0f);
    o[0] = wasm_f32x4_add(wasm_f32x4_sub(wasm_f32x4_mul(quarter, u[0]), wasm_f32x4_div(wasm_f32x4_add(u[1], u[2]), six)),
                          wasm_f32x4_div(wasm_f32x4_add(u[3], u[4]), twenty_four));
    //     u0 / 4 - (u1 + u2) / 6 + (u3 + u4) / 24
    o[1] = wasm_f32x4_add(wasm_f32x4_div(wasm_f32x4_sub(u[2], u[1]), six), wasm_f32x4_div(wasm_f32x4_sub(u[3], u[4]), twelve));
    //     (u2 - u1) / 6 + (u3 - u4) / 12
    o[2] = wasm_f32x4_add(wasm_f32x4_sub(wasm_f32x4_div(wasm_f32x4_add(u[3], u[4]), six),
                                         wasm_f32x4_div(wasm_f32x4_add(u[1], u[2]), six)), u[5]);
    //     (u3 + u4) / 6 - (u1 + u2) / 6 + u5
}

// dw[o][c] += G^T dU[o][c] G (without accumulate: =), split over the output
// channels [o_first, o_first + o_count). dU^T[xi] is (those) OC x C, so 4
// consecutive c are 4 consecutive floats of each plane: the transform runs
// on 4 kernels at once, lane i = c + i
// (the operations a scalar version would do, divisions included: the same
// bits), and their 4 x 9 outputs are consecutive in dw.
static void dw_task(void *ctx, int ith, int nth) {
    wino_job *j = ctx;
    const gb_conv2d_shape *s = j->s;
    const int nm = members(j->m);
    int o0, o1;
    while (gb_pool_take(&j->taken, j->o_count, ith, nth, &o0, &o1)) {
        for (int o = j->o_first + o0; o < j->o_first + o1; o++)
            for (int c = 0; c < s->C; c += 4) {
                const int nc = s->C - c < 4 ? s->C - c : 4;
                const float *du = j->in + (size_t)(o - j->o_first) * s->C + c;   // dU^T holds rows from o_first
                v128_t u[36], g[9];
                for (int xi = 0; xi < nm; xi++) {
                    if (nc == 4) { u[xi] = wasm_v128_load(du + xi * j->stride); continue; }
                    float lanes[4] = { 0.0f, 0.0f, 0.0f, 0.0f };   // the last nc < 4 kernels, zeros after
                    for (int i = 0; i < nc; i++) lanes[i] = du[xi * j->stride + i];
                    u[xi] = wasm_v128_load(lanes);
                }
                if (j->m == 2) {
                    const v128_t half = wasm_f32x4_splat(0.5f);
                    v128_t b[3][4];
                    for (int q = 0; q < 4; q++) {              // b = G^T dU
                        b[0][q] = wasm_f32x4_add(u[q], wasm_f32x4_mul(half, wasm_f32x4_add(u[4 + q], u[8 + q])));
                        b[1][q] = wasm_f32x4_mul(half, wasm_f32x4_sub(u[4 + q], u[8 + q]));
                        b[2][q] = wasm_f32x4_add(wasm_f32x4_mul(half, wasm_f32x4_add(u[4 + q], u[8 + q])), u[12 + q]);
                    }
                    for (int r = 0; r < 3; r++) {              // dg = b G
                        g[r * 3 + 0] = wasm_f32x4_add(b[r][0], wasm_f32x4_mul(half, wasm_f32x4_add(b[r][1], b[r][2])));
                        g[r * 3 + 1] = wasm_f32x4_mul(half, wasm_f32x4_sub(b[r][1], b[r][2]));
                        g[r * 3 + 2] = wasm_f32x4_add(wasm_f32x4_mul(half, wasm_f32x4_add(b[r][1], b[r][2])), b[r][3]);
                    }
                } else {
                    v128_t b[3][6];
                    for (int q = 0; q < 6; q++) {              // b = G^T dU, column by column
                        const v128_t col[6] = { u[q], u[6 + q], u[12 + q], u[18 + q], u[24 + q], u[30 + q] };
                        v128_t out[3];
                        wino4_gt(col, out);
                        for (int r = 0; r < 3; r++) b[r][q] = out[r];
                    }
                    for (int r = 0; r < 3; r++) {              // dg = b G, row by row
                        v128_t out[3];
                        wino4_gt(b[r], out);
                        for (int k = 0; k < 3; k++) g[r * 3 + k] = out[k];
                    }
                }
                float gk[9][4];   // gk[k][i]: element k of kernel c + i
                for (int k = 0; k < 9; k++) wasm_v128_store(gk[k], g[k]);
                float *dw = j->out + ((size_t)o * s->C + c) * 9;   // kernel c + i at dw + 9i
                for (int i = 0; i < nc; i++)
                    for (int k = 0; k < 9; k++) dw[i * 9 + k] = j->accumulate ? dw[i * 9 + k] + gk[k][i] : gk[k][i];
            }
    }
}

// Scratch: V^T (nm packed B planes, G*T x C) | dM (nm packed A planes, OC x G*T) | dU^T (nm x rows x C).
static void dw_strides(const gb_conv2d_shape *s, int m, int rows, size_t *sv, size_t *sd, size_t *su) {
    const int T = tiles_per_image(s, m) * images_per_group(s, m);
    *sv = member_stride(gb_f32_packed_b_floats(T, s->C));
    *sd = member_stride(gb_f32_packed_a_floats(s->OC, T));
    *su = member_stride((size_t)s->C * rows);
}

size_t gb_conv2d_winograd_backward_dw_scratch_bytes(const gb_conv2d_shape *s, int tile, int rows) {
    size_t sv, sd, su;
    dw_strides(s, checked_tile(tile), rows, &sv, &sd, &su);
    return sizeof(float) * members(tile) * (sv + sd + su);
}

// dU^T sums over the image groups in order (the same for any thread count),
// `rows` output channels at a time: a chunk's dU^T is summed over every group,
// then transformed into dw. With one group (the deep layers, whose dU^T is
// large), V^T and dM are made once for all chunks; with more, again per chunk.
void gb_conv2d_winograd_backward_dw(const gb_conv2d_shape *s, int tile, int rows, const float *x, const float *dy,
                                    float *dw, int store, void *scratch) {
    GB_ASSERT(gb_conv2d_winograd_ok(s), "winograd needs a 3x3 stride-1 conv");
    GB_ASSERT(rows >= s->OC || (rows > 0 && rows % GB_PPMM_MR == 0), "dw rows %d: a multiple of %d", rows, GB_PPMM_MR);
    const int m = checked_tile(tile), nm = members(m);
    const int TH = (s->OH + m - 1) / m, TW = (s->OW + m - 1) / m, G = images_per_group(s, m);
    size_t sv, sd, su;
    dw_strides(s, m, rows < s->OC ? rows : s->OC, &sv, &sd, &su);
    const size_t x_image = (size_t)s->C * s->H * s->W, y_image = (size_t)s->OC * s->OH * s->OW;
    float *v = scratch, *dm = v + nm * sv, *du = dm + nm * sd;
    for (int o0 = 0; o0 < s->OC; o0 += rows) {
        const int o_n = s->OC - o0 < rows ? s->OC - o0 : rows;
        for (int n = 0; n < s->N; n += G) {
            const int images = s->N - n < G ? s->N - n : G, T = TH * TW * images;
            if (o0 == 0 || G < s->N) {
                wino_job in = { .s = s, .in = x + (size_t)n * x_image, .out = v, .TH = TH, .TW = TW, .stride = sv,
                                .images = images, .image = x_image, .dw_layout = 1, .m = m };
                gb_parallel_for(gb_wino_input_task, &in);
                wino_job mj = { .s = s, .in = dy + (size_t)n * y_image, .out = dm, .TH = TH, .TW = TW, .stride = sd,
                                .images = images, .image = y_image, .m = m };
                gb_parallel_for(dm_task, &mj);
            }
            // Rows o0.. of dM's packed A planes start at o0 * T (whole 5-row tiles).
            gb_f32_gemm_ppacked_batched(nm, o_n, s->C, T, dm + (size_t)o0 * T, sd, v, sv, du, s->C, su, n > 0);
        }
        wino_job out = { .s = s, .in = du, .out = dw, .TH = TH, .TW = TW, .stride = su, .accumulate = !store, .m = m,
                         .o_first = o0, .o_count = o_n };
        gb_parallel_for(dw_task, &out);
    }
}
