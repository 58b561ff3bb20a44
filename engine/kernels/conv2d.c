// conv2d.c: convolution as im2col + GEMM (maths and layout in conv2d.h).
#include "conv2d.h"

#include "gemm.h"
#include "f32-gemm/gb_f32_simd.h"
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
                            const gb_v4f v0 = gb_v4f_load(row + iw), v1 = gb_v4f_load(row + iw + 4);
                            const gb_v4f v2 = gb_v4f_load(row + iw + 8), v3 = gb_v4f_load(row + iw + 12);
                            gb_v4f_store(dst, __builtin_shufflevector(v0, v1, 0, 2, 4, 6));
                            gb_v4f_store(dst + 4, __builtin_shufflevector(v2, v3, 0, 2, 4, 6));
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
    const im2col_job *j = ctx;
    const int K = j->s->C * j->s->KH * j->s->KW;
    const int np = (j->s->OH * j->s->OW + GB_GEMM_NR - 1) / GB_GEMM_NR;
    const int p0 = (int)((long long)np * ith / nth), p1 = (int)((long long)np * (ith + 1) / nth);
    for (int p = p0; p < p1; p++)
        im2col_panel(j->s, j->x, p, j->out + (size_t)p * K * GB_GEMM_NR);
}

void gb_f32_im2col_packed(const gb_conv2d_shape *s, const float *x, float *packed) {
    im2col_job j = { s, x, packed };
    gb_parallel_for(im2col_packed_task, &j);
}

// --- im2col row-major and col2im: split by input channel -----------------------

// col row (c, kh, kw), column (i, j) = x[c, i*s+kh-p, j*s+kw-p] (0 outside).
static void im2col_task(void *ctx, int ith, int nth) {
    const im2col_job *j = ctx;
    const gb_conv2d_shape *s = j->s;
    const int c0 = (int)((long long)s->C * ith / nth), c1 = (int)((long long)s->C * (ith + 1) / nth);
    float *col = j->out + (size_t)c0 * s->KH * s->KW * s->OH * s->OW;
    for (int c = c0; c < c1; c++)
        for (int kh = 0; kh < s->KH; kh++)
            for (int kw = 0; kw < s->KW; kw++)
                for (int i = 0; i < s->OH; i++) {
                    const int ih = i * s->stride + kh - s->pad;
                    const float *row = j->x + ((size_t)c * s->H + ih) * s->W;
                    for (int jj = 0; jj < s->OW; jj++) {
                        const int iw = jj * s->stride + kw - s->pad;
                        *col++ = (ih >= 0 && ih < s->H && iw >= 0 && iw < s->W) ? row[iw] : 0.0f;
                    }
                }
}

void gb_f32_im2col(const gb_conv2d_shape *s, const float *x, float *col) {
    im2col_job j = { s, x, col };
    gb_parallel_for(im2col_task, &j);
}

typedef struct col2im_job {
    const gb_conv2d_shape *s;
    const float *dcol;
    float *dx;
} col2im_job;

// The adjoint of im2col: every col entry adds back into the input pixel it
// was copied from. A thread owns whole channels of dx, and each pixel sums
// its contributions in (kh, kw, i, j) order whatever the thread count.
static void col2im_task(void *ctx, int ith, int nth) {
    const col2im_job *j = ctx;
    const gb_conv2d_shape *s = j->s;
    const int c0 = (int)((long long)s->C * ith / nth), c1 = (int)((long long)s->C * (ith + 1) / nth);
    const float *col = j->dcol + (size_t)c0 * s->KH * s->KW * s->OH * s->OW;
    for (int c = c0; c < c1; c++) {
        float *dxc = j->dx + (size_t)c * s->H * s->W;
        for (int kh = 0; kh < s->KH; kh++)
            for (int kw = 0; kw < s->KW; kw++)
                for (int i = 0; i < s->OH; i++) {
                    const int ih = i * s->stride + kh - s->pad;
                    if (ih < 0 || ih >= s->H) { col += s->OW; continue; }
                    float *row = dxc + (size_t)ih * s->W;
                    for (int jj = 0; jj < s->OW; jj++, col++) {
                        const int iw = jj * s->stride + kw - s->pad;
                        if (iw >= 0 && iw < s->W) row[iw] += *col;
                    }
                }
    }
}

void gb_f32_col2im(const gb_conv2d_shape *s, const float *dcol, float *dx) {
    col2im_job j = { s, dcol, dx };
    gb_parallel_for(col2im_task, &j);
}

// --- forward -------------------------------------------------------------------

size_t gb_conv2d_forward_scratch_bytes(const gb_conv2d_shape *s) {
    return sizeof(float) * round16(gb_f32_packed_b_floats(s->C * s->KH * s->KW, s->OH * s->OW));
}

void gb_conv2d_forward(const gb_conv2d_shape *s, const float *x, const float *w, float *y,
                       void *scratch) {
    const int K = s->C * s->KH * s->KW, P = s->OH * s->OW;
    float *packed = scratch;
    for (int n = 0; n < s->N; n++) {
        const float *xn = x + (size_t)n * s->C * s->H * s->W;
        if (is_pointwise(s)) gb_f32_pack_b(K, P, xn, P, packed);
        else gb_f32_im2col_packed(s, xn, packed);
        gb_f32_gemm_packed(s->OC, P, K, w, K, packed, y + (size_t)n * s->OC * P, P, NULL, 0);
    }
}

// --- backward ------------------------------------------------------------------

// Scratch: w^T [K x OC] | col (and then dcol) [K x P] | packed operand.
size_t gb_conv2d_backward_scratch_bytes(const gb_conv2d_shape *s) {
    const size_t K = (size_t)s->C * s->KH * s->KW, P = (size_t)s->OH * s->OW;
    size_t pk = gb_f32_packed_b_floats((int)P, (int)K);          // col^T for dw
    size_t pd = gb_f32_packed_b_floats(s->OC, (int)P);           // dy for dcol
    return sizeof(float) * (round16(K * s->OC) + round16(K * P) + round16(pk > pd ? pk : pd));
}

void gb_conv2d_backward(const gb_conv2d_shape *s, const float *x, const float *w,
                        const float *dy, float *dx, float *dw, void *scratch) {
    const int K = s->C * s->KH * s->KW, P = s->OH * s->OW, OC = s->OC;
    float *wt = scratch;
    float *col = wt + round16((size_t)K * OC);
    float *packed = col + round16((size_t)K * P);
    if (dx) gb_f32_transpose(OC, K, w, K, wt);
    for (int n = 0; n < s->N; n++) {
        const float *xn = x + (size_t)n * s->C * s->H * s->W;
        const float *dyn = dy + (size_t)n * OC * P;
        float *dxn = dx ? dx + (size_t)n * s->C * s->H * s->W : NULL;
        if (dw) {   // dw[OC x K] += dy[OC x P] . col^T, the sum over P inside the GEMM
            const float *c = xn;
            if (!is_pointwise(s)) { gb_f32_im2col(s, xn, col); c = col; }
            gb_f32_pack_bt(P, K, c, P, packed);
            gb_f32_gemm_packed(OC, K, P, dyn, P, packed, dw, K, NULL, 1);
        }
        if (dx) {   // dcol[K x P] = w^T . dy; dx += col2im(dcol)
            gb_f32_pack_b(OC, P, dyn, P, packed);
            if (is_pointwise(s)) {
                gb_f32_gemm_packed(K, P, OC, wt, OC, packed, dxn, P, NULL, 1);
            } else {
                gb_f32_gemm_packed(K, P, OC, wt, OC, packed, col, P, NULL, 0);
                gb_f32_col2im(s, col, dxn);
            }
        }
    }
}
