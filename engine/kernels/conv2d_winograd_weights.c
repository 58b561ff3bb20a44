// conv2d_winograd_weights.c: Winograd's weight transform, U = G g G^T per
// 3x3 kernel, packed for the GEMM: the forward's U from w, dx's from w
// turned by 180 degrees and transposed. Made once while the weights do not
// change (conv2d_weights.c keeps it) or per call in the scratch.
#include "conv2d_winograd_internal.h"


size_t gb_conv2d_winograd_weights_floats(const gb_conv2d_shape *s, int tile) {
    const size_t fwd = u_plane(s->OC, s->C), dx = u_plane(s->C, s->OC);
    return members(checked_tile(tile)) * (fwd > dx ? fwd : dx);
}


// G's rows of F(4x4, 3x3) applied to a column (v0, v1, v2) of 3: six
// values, `step` apart in o.
static inline void wino4_g(v128_t v0, v128_t v1, v128_t v2, v128_t *o, int step) {
    const v128_t quarter = wasm_f32x4_splat(0.25f), six = wasm_f32x4_splat(6.0f);
    const v128_t twelve = wasm_f32x4_splat(12.0f), twenty_four = wasm_f32x4_splat(24.0f);
    o[0 * step] = wasm_f32x4_mul(quarter, v0);                                                    // 0.25 v0
    o[1 * step] = wasm_f32x4_div(wasm_f32x4_neg(wasm_f32x4_add(wasm_f32x4_add(v0, v1), v2)), six);   // -(v0 + v1 + v2) / 6
    o[2 * step] = wasm_f32x4_div(wasm_f32x4_neg(wasm_f32x4_add(wasm_f32x4_sub(v0, v1), v2)), six);   // -(v0 - v1 + v2) / 6
    o[3 * step] = wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_div(v0, twenty_four), wasm_f32x4_div(v1, twelve)),
                                 wasm_f32x4_div(v2, six));                                        // v0/24 + v1/12 + v2/6
    o[4 * step] = wasm_f32x4_add(wasm_f32x4_sub(wasm_f32x4_div(v0, twenty_four), wasm_f32x4_div(v1, twelve)),
                                 wasm_f32x4_div(v2, six));                                        // v0/24 - v1/12 + v2/6
    o[5 * step] = v2;
}

// u = G g G^T for 3x3 kernels g: 4x4 (m = 2) or 6x6 (m = 4), row-major;
// four kernels at once, lane i = kernel i (each lane sees the operations a
// scalar version would do, divisions included: the same bits, and one vector
// division costs about what one scalar division does).
static void kernel_transform(int m, const v128_t g[9], v128_t *u) {
    if (m == 2) {
        const v128_t half = wasm_f32x4_splat(0.5f);
        v128_t a[4][3];
        for (int col = 0; col < 3; col++) {      // a = G g
            a[0][col] = g[col];
            a[1][col] = wasm_f32x4_mul(half, wasm_f32x4_add(wasm_f32x4_add(g[col], g[3 + col]), g[6 + col]));
            a[2][col] = wasm_f32x4_mul(half, wasm_f32x4_add(wasm_f32x4_sub(g[col], g[3 + col]), g[6 + col]));
            a[3][col] = g[6 + col];
        }
        for (int r = 0; r < 4; r++) {            // u = a G^T
            u[r * 4 + 0] = a[r][0];
            u[r * 4 + 1] = wasm_f32x4_mul(half, wasm_f32x4_add(wasm_f32x4_add(a[r][0], a[r][1]), a[r][2]));
            u[r * 4 + 2] = wasm_f32x4_mul(half, wasm_f32x4_add(wasm_f32x4_sub(a[r][0], a[r][1]), a[r][2]));
            u[r * 4 + 3] = a[r][2];
        }
        return;
    }
    v128_t a[6][3];
    for (int col = 0; col < 3; col++) wino4_g(g[col], g[3 + col], g[6 + col], &a[0][col], 3);   // a = G g
    for (int r = 0; r < 6; r++) wino4_g(a[r][0], a[r][1], a[r][2], u + r * 6, 1);              // u = a G^T
}

// U[xi][oc][c] = (G g G^T)[xi], written straight into packed
// ppmm tiles: element (o, c) of a plane at ((o/5)·cols + c)·5 + o%5, rows
// past the last padded with zeros. With `flip`, g is w[c][oc] turned by 180
// degrees and U is indexed [xi][c][oc] (backward, below).
// Split over 5-row tiles; columns c go 4 at a time (lanes). The 5 rows x 4
// columns of one plane are 20 consecutive floats (column by column), so
// each plane's block is stored as 4 vectors (a 4x4 transpose of rows 0-3)
// and 4 floats of row 4, instead of 20 single floats.
static void weights_task(void *ctx, int ith, int nth) {
    wino_job *j = ctx;
    const gb_conv2d_shape *s = j->s;
    const int rows = j->o_count ? j->o_count : j->flip ? s->C : s->OC, cols = j->flip ? s->OC : s->C;
    const int nm = members(j->m);
    const size_t plane = u_plane(rows, cols);
    static const float zeros[9];
    v128_t u[GB_PPMM_MR][36];   // u[row of the tile][xi], lane i = column c0 + i
    int t0, t1;
    while (gb_pool_take(&j->taken, (rows + GB_PPMM_MR - 1) / GB_PPMM_MR, ith, nth, &t0, &t1)) {
        for (int t = t0; t < t1; t++)
            for (int c0 = 0; c0 < cols; c0 += 4) {
                const int nc = cols - c0 < 4 ? cols - c0 : 4;
                for (int r = 0; r < GB_PPMM_MR; r++) {
                    const int o = j->o_first + t * GB_PPMM_MR + r;
                    if (o >= j->o_first + rows) {   // the last tile's padding rows
                        for (int xi = 0; xi < nm; xi++) u[r][xi] = wasm_f32x4_splat(0.0f);
                        continue;
                    }
                    const float *src[4];   // kernel (o, c0 + i), or zeros past the last column
                    for (int i = 0; i < 4; i++)
                        src[i] = i >= nc ? zeros
                               : j->flip ? j->in + ((size_t)(c0 + i) * s->C + o) * 9
                                         : j->in + ((size_t)o * s->C + c0 + i) * 9;
                    v128_t g[9];
                    for (int k = 0; k < 9; k++) {   // flip: g[kh][kw] = w[c][o][2-kh][2-kw]
                        const int e = j->flip ? 8 - k : k;
                        g[k] = wasm_f32x4_make(src[0][e], src[1][e], src[2][e], src[3][e]);
                    }
                    kernel_transform(j->m, g, u[r]);
                }
                float *dst = j->out + ((size_t)t * cols + c0) * GB_PPMM_MR;   // column c0's 5 rows
                for (int xi = 0; xi < nm; xi++, dst += plane) {
                    if (nc < 4) {
                        float b[GB_PPMM_MR][4];   // b[r][i]: row r, column c0 + i
                        for (int r = 0; r < GB_PPMM_MR; r++) wasm_v128_store(b[r], u[r][xi]);
                        for (int i = 0; i < nc; i++)
                            for (int r = 0; r < GB_PPMM_MR; r++) dst[i * GB_PPMM_MR + r] = b[r][i];
                        continue;
                    }
                    const v128_t rows03[4] = { u[0][xi], u[1][xi], u[2][xi], u[3][xi] };
                    v128_t col[4];   // col[i]: rows 0-3 of column c0 + i
                    transpose4(rows03, col);
                    wasm_v128_store(dst + 0 * GB_PPMM_MR, col[0]);
                    dst[0 * GB_PPMM_MR + 4] = wasm_f32x4_extract_lane(u[4][xi], 0);
                    wasm_v128_store(dst + 1 * GB_PPMM_MR, col[1]);
                    dst[1 * GB_PPMM_MR + 4] = wasm_f32x4_extract_lane(u[4][xi], 1);
                    wasm_v128_store(dst + 2 * GB_PPMM_MR, col[2]);
                    dst[2 * GB_PPMM_MR + 4] = wasm_f32x4_extract_lane(u[4][xi], 2);
                    wasm_v128_store(dst + 3 * GB_PPMM_MR, col[3]);
                    dst[3 * GB_PPMM_MR + 4] = wasm_f32x4_extract_lane(u[4][xi], 3);
                }
            }
    }
}

void gb_wino_transform_weights_rows(const gb_conv2d_shape *s, int m, int flip, const float *w, int o_first,
                                    int o_count, float *u) {
    wino_job j = { .s = s, .in = w, .out = u, .flip = flip, .m = checked_tile(m), .o_first = o_first,
                   .o_count = o_count };
    gb_parallel_for(weights_task, &j);
}

void gb_conv2d_winograd_transform_weights(const gb_conv2d_shape *s, int tile, const float *w, float *u) {
    GB_ASSERT(gb_conv2d_winograd_ok(s), "winograd needs a 3x3 stride-1 conv");
    gb_wino_transform_weights_rows(s, tile, 0, w, 0, 0, u);
}

void gb_conv2d_winograd_transform_weights_dx(const gb_conv2d_shape *s, int tile, const float *w, float *u) {
    (void)dx_shape(s);
    gb_wino_transform_weights_rows(s, tile, 1, w, 0, 0, u);
}
