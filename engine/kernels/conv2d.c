// conv2d.c: convolution as im2col + GEMM (maths and layout in conv2d.h).
#include "conv2d.h"
#include "conv2d_plan.h"

#include "gemm.h"
#include "gb_simd128.h"
#include "../core/gb_status.h"
#include "../threads/gb_pool.h"

#include <string.h>

gb_conv2d_shape gb_conv2d_shape_make(int N, int C, int H, int W, int OC, int KH, int KW,
                                     int stride, int pad) {
    GB_ASSERT(N > 0 && C > 0 && H > 0 && W > 0 && OC > 0 && KH > 0 && KW > 0 && stride > 0 && pad >= 0,
              "bad conv2d shape");
    gb_conv2d_shape s = { N, C, H, W, OC, KH, KW, stride, pad, 0, 0 };
    s.OH = (H + 2 * pad - KH) / stride + 1;
    s.OW = (W + 2 * pad - KW) / stride + 1;
    GB_ASSERT(s.OH > 0 && s.OW > 0, "kernel %dx%d larger than padded input %dx%d", KH, KW, H, W);
    return s;
}

double gb_conv2d_macs(const gb_conv2d_shape *s) {
    return (double)s->N * s->OC * s->OH * s->OW * s->C * s->KH * s->KW;
}

static int is_pointwise(const gb_conv2d_shape *s) {   // col == x
    return s->KH == 1 && s->KW == 1 && s->stride == 1 && s->pad == 0;
}

static size_t round16(size_t n) { return (n + 15) & ~(size_t)15; }   // floats, keeps 64-byte alignment

// --- im2col, packed: panel-major so writes are sequential ------------------------

typedef struct im2col_job {
    const gb_conv2d_shape *s;
    const float *x;
    float *out;
    gb_take_counter taken;   // chunks taken so far (gb_pool_take)
} im2col_job;

// One panel = 8 consecutive output pixels; for every k = (c, kh, kw) it holds
// the 8 input values those pixels multiply with w[:, c, kh, kw]. When the 8
// pixels share an output row (always if OW % 8 == 0) their inputs are
// x[c, ih, iw0 + l*stride], l = 0..7: one row segment, copied without per-lane
// index maths when it is inside the image.
static void im2col_panel(const gb_conv2d_shape *s, const float *x, int panel, float *dst) {
    const int P = s->OH * s->OW, st = s->stride, H = s->H, W = s->W;
    const int p0 = panel * GB_GEMM_NR;
    const int lanes = P - p0 < GB_GEMM_NR ? P - p0 : GB_GEMM_NR;
    int ih0[GB_GEMM_NR], iw0[GB_GEMM_NR];
    for (int l = 0; l < GB_GEMM_NR; l++) {
        const int p = p0 + (l < lanes ? l : 0);
        ih0[l] = (p / s->OW) * st - s->pad;
        iw0[l] = (p % s->OW) * st - s->pad;
    }
    const int one_row = lanes == GB_GEMM_NR && ih0[0] == ih0[GB_GEMM_NR - 1];
    for (int c = 0; c < s->C; c++) {
        const float *xc = x + (size_t)c * H * W;
        for (int kh = 0; kh < s->KH; kh++) {
            if (one_row) {
                const int ih = ih0[0] + kh;
                if (ih < 0 || ih >= H) {
                    memset(dst, 0, sizeof(float) * GB_GEMM_NR * s->KW);
                    dst += GB_GEMM_NR * s->KW;
                    continue;
                }
                const float *row = xc + (size_t)ih * W;
                for (int kw = 0; kw < s->KW; kw++, dst += GB_GEMM_NR) {
                    const int iw = iw0[0] + kw;
                    if (iw >= 0 && iw + (GB_GEMM_NR - 1) * st < W) {
                        if (st == 1) {
                            memcpy(dst, row + iw, sizeof(float) * GB_GEMM_NR);
                        } else if (st == 2 && iw + 2 * GB_GEMM_NR <= W) {
                            // even lanes of 16 consecutive floats: two shuffles, no gather
                            const v128_t v0 = wasm_v128_load(row + iw), v1 = wasm_v128_load(row + iw + 4);
                            const v128_t v2 = wasm_v128_load(row + iw + 8), v3 = wasm_v128_load(row + iw + 12);
                            wasm_v128_store(dst, wasm_i32x4_shuffle(v0, v1, 0, 2, 4, 6));
                            wasm_v128_store(dst + 4, wasm_i32x4_shuffle(v2, v3, 0, 2, 4, 6));
                        } else {
                            for (int l = 0; l < GB_GEMM_NR; l++) dst[l] = row[iw + l * st];
                        }
                    } else {
                        for (int l = 0; l < GB_GEMM_NR; l++) {
                            const int v = iw + l * st;
                            dst[l] = (v >= 0 && v < W) ? row[v] : 0.0f;
                        }
                    }
                }
            } else {   // pixels span two rows, or the last partial panel
                for (int kw = 0; kw < s->KW; kw++, dst += GB_GEMM_NR)
                    for (int l = 0; l < GB_GEMM_NR; l++) {
                        const int ih = ih0[l] + kh, iw = iw0[l] + kw;
                        dst[l] = (l < lanes && ih >= 0 && ih < H && iw >= 0 && iw < W)
                                     ? xc[(size_t)ih * W + iw] : 0.0f;
                    }
            }
        }
    }
}

static void im2col_packed_task(void *ctx, int ith, int nth) {
    im2col_job *j = ctx;
    const int K = j->s->C * j->s->KH * j->s->KW;
    const int np = (j->s->OH * j->s->OW + GB_GEMM_NR - 1) / GB_GEMM_NR;
    int p0, p1;
    while (gb_pool_take(&j->taken, np, ith, nth, &p0, &p1)) {
        for (int p = p0; p < p1; p++)
            im2col_panel(j->s, j->x, p, j->out + (size_t)p * K * GB_GEMM_NR);
    }
}

void gb_f32_im2col_packed(const gb_conv2d_shape *s, const float *x, float *packed) {
    im2col_job j = { s, x, packed, 0 };
    gb_parallel_for(im2col_packed_task, &j);
}

// --- im2col row-major and col2im: split by input channel -----------------------

// Output columns j whose input column j*stride + kw - pad lies inside [0, W):
// [*j0, *j1). Outside them the row is padding.
static void valid_cols(const gb_conv2d_shape *s, int kw, int *j0, int *j1) {
    const int off = kw - s->pad;                          // iw = j*stride + off
    int lo = off >= 0 ? 0 : (-off + s->stride - 1) / s->stride;
    int hi = s->W - off <= 0 ? 0 : (s->W - off + s->stride - 1) / s->stride;
    if (hi > s->OW) hi = s->OW;
    if (lo > hi) lo = hi;
    *j0 = lo; *j1 = hi;
}

// col row (c, kh, kw), column (i, j) = x[c, i*s+kh-p, j*s+kw-p] (0 outside).
// Per output row: zeros, a copy of the valid span (strided by s), zeros.
static void im2col_task(void *ctx, int ith, int nth) {
    im2col_job *j = ctx;
    const gb_conv2d_shape *s = j->s;
    int c0, c1;
    while (gb_pool_take(&j->taken, s->C, ith, nth, &c0, &c1)) {
        const int st = s->stride, OW = s->OW;
        float *col = j->out + (size_t)c0 * s->KH * s->KW * s->OH * OW;
        for (int c = c0; c < c1; c++)
            for (int kh = 0; kh < s->KH; kh++)
                for (int kw = 0; kw < s->KW; kw++) {
                    int j0, j1;
                    valid_cols(s, kw, &j0, &j1);
                    for (int i = 0; i < s->OH; i++, col += OW) {
                        const int ih = i * st + kh - s->pad;
                        if (ih < 0 || ih >= s->H || j0 == j1) { memset(col, 0, sizeof(float) * OW); continue; }
                        const float *src = j->x + ((size_t)c * s->H + ih) * s->W + (j0 * st + kw - s->pad);
                        for (int jj = 0; jj < j0; jj++) col[jj] = 0.0f;
                        if (st == 1) memcpy(col + j0, src, sizeof(float) * (size_t)(j1 - j0));
                        else for (int jj = j0; jj < j1; jj++, src += st) col[jj] = *src;
                        for (int jj = j1; jj < OW; jj++) col[jj] = 0.0f;
                    }
                }
    }
}

void gb_f32_im2col(const gb_conv2d_shape *s, const float *x, float *col) {
    im2col_job j = { s, x, col, 0 };
    gb_parallel_for(im2col_task, &j);
}

typedef struct col2im_job {
    const gb_conv2d_shape *s;
    const float *dcol;
    float *dx;
    gb_take_counter taken;   // chunks taken so far (gb_pool_take)
} col2im_job;

// The adjoint of im2col: every col entry adds back into the input pixel it
// was copied from. A thread owns whole channels of dx, and each pixel sums
// its contributions in (kh, kw, i, j) order whatever the thread count.
static void col2im_task(void *ctx, int ith, int nth) {
    col2im_job *j = ctx;
    const gb_conv2d_shape *s = j->s;
    int c0, c1;
    while (gb_pool_take(&j->taken, s->C, ith, nth, &c0, &c1)) {
        const int st = s->stride, OW = s->OW;
        const float *col = j->dcol + (size_t)c0 * s->KH * s->KW * s->OH * OW;
        for (int c = c0; c < c1; c++) {
            float *dxc = j->dx + (size_t)c * s->H * s->W;
            for (int kh = 0; kh < s->KH; kh++)
                for (int kw = 0; kw < s->KW; kw++) {
                    int j0, j1;
                    valid_cols(s, kw, &j0, &j1);
                    for (int i = 0; i < s->OH; i++, col += OW) {
                        const int ih = i * st + kh - s->pad;
                        if (ih < 0 || ih >= s->H) continue;
                        float *row = dxc + (size_t)ih * s->W + (j0 * st + kw - s->pad);
                        if (st == 1) for (int jj = j0; jj < j1; jj++) row[jj - j0] += col[jj];
                        else for (int jj = j0; jj < j1; jj++, row += st) *row += col[jj];
                    }
                }
        }
    }
}

void gb_f32_col2im(const gb_conv2d_shape *s, const float *dcol, float *dx) {
    col2im_job j = { s, dcol, dx, 0 };
    gb_parallel_for(col2im_task, &j);
}

// --- forward -------------------------------------------------------------------

// y = v * scale + shift (two roundings, as the BatchNorm pass: no FMA), then
// the ReLU's pmax(y, 0) = y < 0 ? 0 : y (keeps -0.0, as gb_f32_relu does).
void gb_conv2d_epilogue_run(const gb_conv2d_epilogue *e, int o, float *y, int n) {
    const float scale = e->scale[o], shift = e->shift[o];
    const v128_t vscale = wasm_f32x4_splat(scale), vshift = wasm_f32x4_splat(shift), vzero = wasm_f32x4_splat(0.0f);
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        v128_t v = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(y + i), vscale), vshift);
        if (e->relu) v = wasm_f32x4_pmax(v, vzero);
        wasm_v128_store(y + i, v);
    }
    for (; i < n; i++) {
        const v128_t v = wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_splat(y[i]), vscale), vshift);
        y[i] = wasm_f32x4_extract_lane(e->relu ? wasm_f32x4_pmax(v, vzero) : v, 0);
    }
}

typedef struct epilogue_job {
    const gb_conv2d_epilogue *e;
    int OC, P, planes;
    float *y;
    gb_take_counter taken;   // planes taken so far (gb_pool_take)
} epilogue_job;

static void epilogue_task(void *ctx, int ith, int nth) {
    epilogue_job *j = ctx;
    int q0, q1;
    while (gb_pool_take(&j->taken, j->planes, ith, nth, &q0, &q1))
        for (int q = q0; q < q1; q++) gb_conv2d_epilogue_run(j->e, q % j->OC, j->y + (size_t)q * j->P, j->P);
}

void gb_conv2d_epilogue_planes(const gb_conv2d_epilogue *e, int N, int OC, int P, float *y) {
    epilogue_job j = { e, OC, P, N * OC, y, 0 };
    gb_parallel_for(epilogue_task, &j);
}

// w packed as the GEMM's A, for every image.
size_t gb_conv2d_packed_weights_floats(const gb_conv2d_shape *s) {
    return gb_f32_packed_a_floats(s->OC, s->C * s->KH * s->KW);
}

void gb_conv2d_pack_weights(const gb_conv2d_shape *s, const float *w, float *wp) {
    const int K = s->C * s->KH * s->KW;
    gb_f32_pack_a(s->OC, K, w, K, wp);   // A = w [OC x K]
}

// im2col fused with its GEMM: each thread takes runs of panels and makes
// each just before the GEMM reads it (gb_conv2d_plan_im2col_fused decides
// when, conv2d_plan.c). The same bits either way.
typedef struct im2col_gemm_job {
    const gb_conv2d_shape *s;
    const float *wp, *x;   // the packed weights, the batch
    float *y, *scratch;    // one panel per thread: K x 8 floats, round16 apart
    const gb_conv2d_epilogue *e;   // applied to each panel's outputs as they are made (NULL: none)
    gb_take_counter taken;   // chunks taken so far (gb_pool_take)
} im2col_gemm_job;

// The items are the panels of every image, image by image, in one
// parallel_for: with two-ended takes each core makes whole images (at batch
// 1, a half of the image), as the BatchNorm, ReLU and max pool after it take
// them, instead of a share of every image.
static void im2col_gemm_task(void *ctx, int ith, int nth) {
    im2col_gemm_job *j = ctx;
    const gb_conv2d_shape *s = j->s;
    const int K = s->C * s->KH * s->KW, P = s->OH * s->OW, np = (P + GB_GEMM_NR - 1) / GB_GEMM_NR;
    float *panel = j->scratch + (size_t)ith * round16((size_t)K * GB_GEMM_NR);
    int i0, i1;
    while (gb_pool_take(&j->taken, s->N * np, ith, nth, &i0, &i1))
        for (int i = i0; i < i1; i++) {
            const int n = i / np, p = i % np;
            im2col_panel(s, j->x + (size_t)n * s->C * s->H * s->W, p, panel);
            const int nr = P - p * GB_GEMM_NR < GB_GEMM_NR ? P - p * GB_GEMM_NR : GB_GEMM_NR;
            float *yp = j->y + (size_t)n * s->OC * P + (size_t)p * GB_GEMM_NR;
            gb_f32_gemm_ppacked_panel(s->OC, nr, K, j->wp, panel, yp, P);
            if (j->e)   // on the panel's OC x nr outputs (rows P apart), while they are in L1
                for (int o = 0; o < s->OC; o++) gb_conv2d_epilogue_run(j->e, o, yp + (size_t)o * P, nr);
        }
}

// Scratch of a forward from packed weights: one image's im2col, packed (or,
// fused, a panel per thread: never more, gb_conv2d_plan_im2col_fused checks).
size_t gb_conv2d_forward_packed_scratch_bytes(const gb_conv2d_shape *s) {
    return sizeof(float) * round16(gb_f32_packed_b_floats(s->C * s->KH * s->KW, s->OH * s->OW));
}

void gb_conv2d_forward_packed(const gb_conv2d_shape *s, const float *wp, const float *x, float *y,
                              void *scratch) {
    gb_conv2d_forward_packed_epilogue(s, wp, x, y, scratch, NULL);
}

// Fused, the epilogue runs on each panel while it is in L1; else over y
// once the GEMMs are done.
void gb_conv2d_forward_packed_epilogue(const gb_conv2d_shape *s, const float *wp, const float *x, float *y,
                                       void *scratch, const gb_conv2d_epilogue *e) {
    const int K = s->C * s->KH * s->KW, P = s->OH * s->OW;
    float *packed = scratch;
    if (gb_conv2d_plan_im2col_fused(s)) {
        GB_ASSERT((long long)s->N * ((P + GB_GEMM_NR - 1) / GB_GEMM_NR) < (1LL << 31), "conv2d: %d images", s->N);
        im2col_gemm_job j = { s, wp, x, y, packed, e, 0 };
        gb_parallel_for(im2col_gemm_task, &j);
        return;
    }
    for (int n = 0; n < s->N; n++) {
        const float *xn = x + (size_t)n * s->C * s->H * s->W;
        float *yn = y + (size_t)n * s->OC * P;
        if (is_pointwise(s)) gb_f32_pack_b(K, P, xn, P, packed);
        else gb_f32_im2col_packed(s, xn, packed);
        gb_f32_gemm_ppacked(s->OC, P, K, wp, packed, yn, P, NULL, 0);
    }
    if (e) gb_conv2d_epilogue_planes(e, s->N, s->OC, P, y);
}

// Scratch of a whole forward: w packed (once per call) | the above.
size_t gb_conv2d_forward_scratch_bytes(const gb_conv2d_shape *s) {
    return sizeof(float) * round16(gb_conv2d_packed_weights_floats(s)) + gb_conv2d_forward_packed_scratch_bytes(s);
}

void gb_conv2d_forward(const gb_conv2d_shape *s, const float *x, const float *w, float *y,
                       void *scratch) {
    float *wp = scratch;
    gb_conv2d_pack_weights(s, w, wp);
    gb_conv2d_forward_packed(s, wp, x, y, wp + round16(gb_conv2d_packed_weights_floats(s)));
}

// --- backward ------------------------------------------------------------------

// dw sums over images and pixels: dw[OC x K] += sum_n dy_n[OC x P] . col_n^T.
// Per image, a small P (49 in layer4) makes a GEMM whose inner dimension is
// too short: the whole dw (up to 9.4 MB) is read and written back for 49
// multiply-adds per element. So G images go into one GEMM, inner dimension
// G*P (their columns side by side), G from the shape only (a fixed
// summation order): about 512 = one K block, and col of the group <= 8 MB.
static int dw_group(const gb_conv2d_shape *s) {
    const size_t K = (size_t)s->C * s->KH * s->KW, P = (size_t)s->OH * s->OW;
    int G = (int)(512 / P);
    if (G > s->N) G = s->N;
    while (G > 1 && (size_t)G * K * P > ((size_t)2 << 20)) G--;
    return G < 1 ? 1 : G;
}

// Scratch: w^T packed (dx's A) | col of G images, then dcol of one |
// packed B (col^T of the group, or dy of one image) | dy of the group packed (dw's A).
size_t gb_conv2d_backward_scratch_bytes(const gb_conv2d_shape *s) {
    const int K = s->C * s->KH * s->KW, P = s->OH * s->OW, G = dw_group(s);
    size_t pk = gb_f32_packed_b_floats(G * P, K);            // col^T for dw
    size_t pd = gb_f32_packed_b_floats(s->OC, P);            // dy for dcol
    return sizeof(float) * (round16(gb_f32_packed_a_floats(K, s->OC)) + round16((size_t)G * K * P) +
                            round16(pk > pd ? pk : pd) + round16(gb_f32_packed_a_floats(s->OC, G * P)));
}

void gb_conv2d_backward(const gb_conv2d_shape *s, const float *x, const float *w,
                        const float *dy, float *dx, float *dw, void *scratch) {
    const int K = s->C * s->KH * s->KW, P = s->OH * s->OW, OC = s->OC, G = dw_group(s);
    const size_t CHW = (size_t)s->C * s->H * s->W;
    float *wtp = scratch;
    float *col = wtp + round16(gb_f32_packed_a_floats(K, OC));
    float *packed = col + round16((size_t)G * K * P);
    const size_t pk = gb_f32_packed_b_floats(G * P, K), pd = gb_f32_packed_b_floats(OC, P);
    float *dyp = packed + round16(pk > pd ? pk : pd);
    if (dx) gb_f32_pack_at(K, OC, w, K, wtp);   // A = w^T [K x OC]
    for (int n0 = 0; n0 < s->N; n0 += G) {
        const int g_n = s->N - n0 < G ? s->N - n0 : G;
        if (dw) {   // dw += dy[OC x g_n*P] . col^T[g_n*P x K]: one GEMM for the group
            for (int g = 0; g < g_n; g++) {
                const float *xn = x + (size_t)(n0 + g) * CHW, *c = xn;
                if (!is_pointwise(s)) { c = col + (size_t)g * K * P; gb_f32_im2col(s, xn, col + (size_t)g * K * P); }
                gb_f32_pack_bt_part(P, K, c, P, packed, g_n * P, g * P);
                gb_f32_pack_a_part(OC, P, dy + (size_t)(n0 + g) * OC * P, P, dyp, g_n * P, g * P);
            }
            gb_f32_gemm_ppacked(OC, K, g_n * P, dyp, packed, dw, K, NULL, 1);
        }
        if (dx) {   // per image: dcol[K x P] = w^T . dy; dx += col2im(dcol)
            for (int g = 0; g < g_n; g++) {
                const float *dyn = dy + (size_t)(n0 + g) * OC * P;
                float *dxn = dx + (size_t)(n0 + g) * CHW;
                gb_f32_pack_b(OC, P, dyn, P, packed);
                if (is_pointwise(s)) {
                    gb_f32_gemm_ppacked(K, P, OC, wtp, packed, dxn, P, NULL, 1);
                } else {
                    gb_f32_gemm_ppacked(K, P, OC, wtp, packed, col, P, NULL, 0);
                    gb_f32_col2im(s, col, dxn);
                }
            }
        }
    }
}
