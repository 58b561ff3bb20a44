// test_conv2d.c: conv2d forward/backward against naive direct loops in
// double, backward against central differences of L = sum(conv(x, w) * r),
// the scalar and SIMD microkernels bit for bit, and 1/2/3 threads bit for bit.
#include "gb_test.h"
#include "../../engine/kernels/conv2d_plan.h"
#include "../../engine/kernels/gemm.h"
#include "../../engine/kernels/kernels.h"
#include "../../engine/threads/gb_pool.h"

static double xval(const gb_conv2d_shape *s, const float *x, int n, int c, int ih, int iw) {
    if (ih < 0 || ih >= s->H || iw < 0 || iw >= s->W) return 0.0;
    return x[(((size_t)n * s->C + c) * s->H + ih) * s->W + iw];
}

// y[n,o,i,j] = sum w[o,c,kh,kw] x[n,c,i*s+kh-p, j*s+kw-p], in double.
static void naive_forward(const gb_conv2d_shape *s, const float *x, const float *w, double *y) {
    for (int n = 0; n < s->N; n++)
        for (int o = 0; o < s->OC; o++)
            for (int i = 0; i < s->OH; i++)
                for (int j = 0; j < s->OW; j++) {
                    double acc = 0;
                    for (int c = 0; c < s->C; c++)
                        for (int kh = 0; kh < s->KH; kh++)
                            for (int kw = 0; kw < s->KW; kw++)
                                acc += w[((o * s->C + c) * s->KH + kh) * s->KW + kw] *
                                       xval(s, x, n, c, i * s->stride + kh - s->pad, j * s->stride + kw - s->pad);
                    *y++ = acc;
                }
}

// The same loops, scattering dy into dx and dw (the adjoint, written directly).
static void naive_backward(const gb_conv2d_shape *s, const float *x, const float *w, const float *dy,
                           double *dx, double *dw) {
    for (int n = 0; n < s->N; n++)
        for (int o = 0; o < s->OC; o++)
            for (int i = 0; i < s->OH; i++)
                for (int j = 0; j < s->OW; j++) {
                    const double g = dy[(((size_t)n * s->OC + o) * s->OH + i) * s->OW + j];
                    for (int c = 0; c < s->C; c++)
                        for (int kh = 0; kh < s->KH; kh++)
                            for (int kw = 0; kw < s->KW; kw++) {
                                const int ih = i * s->stride + kh - s->pad, iw = j * s->stride + kw - s->pad;
                                const size_t wi = ((o * s->C + c) * s->KH + kh) * s->KW + kw;
                                dw[wi] += g * xval(s, x, n, c, ih, iw);
                                if (ih >= 0 && ih < s->H && iw >= 0 && iw < s->W)
                                    dx[(((size_t)n * s->C + c) * s->H + ih) * s->W + iw] += g * w[wi];
                            }
                }
}

static double loss(const gb_conv2d_shape *s, const float *x, const float *w, const float *r,
                   float *y, void *scratch) {
    gb_conv2d_forward(s, x, w, y, scratch);
    double L = 0;
    for (size_t i = 0; i < (size_t)s->N * s->OC * s->OH * s->OW; i++) L += (double)y[i] * r[i];
    return L;
}

// The Winograd forward and dx run fused per chunk of tiles when U is small
// (this file's shapes, by default), else unfused. Both, and fused with the
// smallest chunks (8 tiles: chunks that start past tile 0, a partial last
// one), must give the bits of the default run (y1, or dx1 = dx0 + dx),
// with 1 to 3 threads.
static const struct { size_t max_u, stage; const char *what; } fusions[] = {
    { 1, 0, "unfused" }, { 0, 1, "fused in 8-tile chunks" },
};
static void check_fusion(const gb_conv2d_shape *s, int tile, const float *u, const float *in, const float *dx0,
                         const float *expect, size_t n, int dx, const char *name) {
    float *out = alloc_f(n);
    for (size_t f = 0; f < sizeof fusions / sizeof fusions[0]; f++) {
        gb_conv2d_plan_set_fusion(fusions[f].max_u, fusions[f].stage);
        void *ws = alloc_f((dx ? gb_conv2d_winograd_backward_dx_scratch_bytes(s, tile)
                               : gb_conv2d_winograd_scratch_bytes(s, tile)) / sizeof(float));
        for (int nt = 1; nt <= 3; nt++) {
            gb_pool_init(nt);
            if (dx) {
                memcpy(out, dx0, n * sizeof(float));
                gb_conv2d_winograd_backward_dx(s, tile, u, in, out, 0, ws);
            } else {
                gb_conv2d_winograd_forward(s, tile, u, in, out, ws);
            }
            CHECK(!memcmp(out, expect, n * 4), "%s: winograd F(%d) %s %s, %d threads, differs from the default run", name,
                  tile, dx ? "dx" : "forward", fusions[f].what, nt);
        }
        free(ws);
    }
    gb_conv2d_plan_set_fusion(0, 0);
    gb_pool_init(1);
    free(out);
}

static void test_conv(int N, int C, int H, int W, int OC, int KH, int KW, int st, int pad) {
    const gb_conv2d_shape s = gb_conv2d_shape_make(N, C, H, W, OC, KH, KW, st, pad);
    const size_t nx = (size_t)N * C * H * W, nw = (size_t)OC * C * KH * KW, ny = (size_t)N * OC * s.OH * s.OW;
    float *x = alloc_f(nx), *w = alloc_f(nw), *dy = alloc_f(ny), *y = alloc_f(ny);
    float *dx = alloc_f(nx), *dw = alloc_f(nw), *dx0 = alloc_f(nx), *dw0 = alloc_f(nw);
    float *y1 = alloc_f(ny), *dx1 = alloc_f(nx), *dw1 = alloc_f(nw);
    size_t sb = gb_conv2d_forward_scratch_bytes(&s), bb = gb_conv2d_backward_scratch_bytes(&s);
    void *scratch = alloc_f((sb > bb ? sb : bb) / sizeof(float));
    double *ry = calloc(ny, sizeof(double)), *rdx = calloc(nx, sizeof(double)), *rdw = calloc(nw, sizeof(double));
    fill(x, nx); fill(w, nw); fill(dy, ny); fill(dx0, nx); fill(dw0, nw);
    const int K = C * KH * KW;
    char name[128];
    snprintf(name, sizeof name, "N%d C%d %dx%d OC%d k%dx%d s%d p%d", N, C, H, W, OC, KH, KW, st, pad);

    naive_forward(&s, x, w, ry);
    for (size_t i = 0; i < nx; i++) rdx[i] = dx0[i];
    for (size_t i = 0; i < nw; i++) rdw[i] = dw0[i];
    naive_backward(&s, x, w, dy, rdx, rdw);

    for (int nt = 1; nt <= 3; nt++) {
        gb_pool_init(nt);
        memcpy(dx, dx0, nx * sizeof(float)); memcpy(dw, dw0, nw * sizeof(float));
        gb_conv2d_forward(&s, x, w, y, scratch);
        gb_conv2d_backward(&s, x, w, dy, dx, dw, scratch);
        if (nt == 1) {
            double e = 0;
            for (size_t i = 0; i < ny; i++) e = fmax(e, fabs(y[i] - ry[i]));
            CHECK(e < 1e-5 * (K + 4), "%s: forward max err %g", name, e);
            e = 0;
            for (size_t i = 0; i < nx; i++) e = fmax(e, fabs(dx[i] - rdx[i]));
            CHECK(e < 1e-5 * (OC * KH * KW + 4), "%s: dx max err %g", name, e);
            e = 0;
            for (size_t i = 0; i < nw; i++) e = fmax(e, fabs(dw[i] - rdw[i]));
            CHECK(e < 1e-5 * (N * s.OH * s.OW + 4), "%s: dw max err %g", name, e);
            memcpy(y1, y, ny * 4); memcpy(dx1, dx, nx * 4); memcpy(dw1, dw, nw * 4);
        } else {
            CHECK(!memcmp(y, y1, ny * 4) && !memcmp(dx, dx1, nx * 4) && !memcmp(dw, dw1, nw * 4),
                  "%s: %d threads not bit-identical to 1", name, nt);
        }
    }
    gb_pool_init(1);

    // Scalar twin: the whole conv bit-identical with the scalar microkernel.
    static const gb_gemm_config scalar = { gb_f32_gemm_4x8__scalar, 4, "4x8__scalar", NULL, NULL };
    gb_gemm_set_config(&scalar);
    memcpy(dx, dx0, nx * sizeof(float)); memcpy(dw, dw0, nw * sizeof(float));
    gb_conv2d_forward(&s, x, w, y, scratch);
    gb_conv2d_backward(&s, x, w, dy, dx, dw, scratch);
    gb_gemm_set_config(NULL);
    CHECK(!memcmp(y, y1, ny * 4) && !memcmp(dx, dx1, nx * 4) && !memcmp(dw, dw1, nw * 4),
          "%s: scalar microkernel not bit-identical to %s", name, gb_gemm_get_config()->name);

    // The forward from packed weights, however it runs (im2col fused with the
    // GEMM panel by panel where the weights are small, or not), sums as
    // im2col + gb_f32_gemm_ppacked do: the same bits. Both thread counts.
    if (!(KH == 1 && KW == 1 && st == 1 && pad == 0)) {
        const int P = s.OH * s.OW;
        float *wp = alloc_f(gb_conv2d_packed_weights_floats(&s)), *packed = alloc_f(gb_f32_packed_b_floats(K, P));
        gb_conv2d_pack_weights(&s, w, wp);
        for (int n = 0; n < N; n++) {
            gb_f32_im2col_packed(&s, x + (size_t)n * C * H * W, packed);
            gb_f32_gemm_ppacked(OC, P, K, wp, packed, y + (size_t)n * OC * P, P, NULL, 0);
        }
        CHECK(!memcmp(y, y1, ny * 4), "%s: forward differs from im2col + GEMM", name);
        for (size_t i = 0; i < ny; i++) y[i] = NAN;   // every output must be written
        gb_pool_init(2);
        gb_conv2d_forward_packed(&s, wp, x, y, scratch);
        gb_pool_init(1);
        CHECK(!memcmp(y, y1, ny * 4), "%s: forward from packed weights, 2 threads, differs", name);
        free(wp); free(packed);
    }

    // Winograd forward and dx, both tiles: vs double, threads, scalar twin
    for (int tile = 2; tile <= 4 && gb_conv2d_winograd_ok(&s); tile += 2) {
        float *u = alloc_f(gb_conv2d_winograd_weights_floats(&s, tile));
        void *ws = alloc_f(gb_conv2d_winograd_scratch_bytes(&s, tile) / sizeof(float));
        for (int nt = 1; nt <= 3; nt++) {
            gb_pool_init(nt);
            gb_conv2d_winograd_transform_weights(&s, tile, w, u);
            gb_conv2d_winograd_forward(&s, tile, u, x, y, ws);
            if (nt == 1) {
                double e = 0;
                for (size_t i = 0; i < ny; i++) e = fmax(e, fabs(y[i] - ry[i]));
                CHECK(e < 1e-5 * (K + 4), "%s: winograd F(%d) max err %g", name, tile, e);
                if (getenv("GB_SHOW_ERR")) {
                    double scale = 0;
                    for (size_t i = 0; i < ny; i++) scale = fmax(scale, fabs(ry[i]));
                    printf("%s: F(%dx%d, 3x3) max err %.3g (%.2g of max |y|)\n", name, tile, tile, e, e / scale);
                }
                memcpy(y1, y, ny * 4);
            } else {
                CHECK(!memcmp(y, y1, ny * 4), "%s: winograd F(%d) %d threads not bit-identical to 1", name, tile, nt);
            }
        }
        gb_pool_init(1);
        gb_gemm_set_config(&scalar);
        gb_conv2d_winograd_forward(&s, tile, u, x, y, ws);
        gb_gemm_set_config(NULL);
        CHECK(!memcmp(y, y1, ny * 4), "%s: winograd F(%d) scalar microkernel not bit-identical", name, tile);
        check_fusion(&s, tile, u, x, NULL, y1, ny, 0, name);
        free(ws);
        // "rows": U made per call a chunk of 5 or 10 output channels at a
        // time (conv2d_plan.c, gb_conv2d_plan_chunk_rows): the same bits
        for (int rows = 5; rows <= 10 && rows < s.OC; rows += 5)
            for (int nt = 1; nt <= 2; nt++) {
                gb_pool_init(nt);
                ws = alloc_f(gb_conv2d_winograd_rows_scratch_bytes(&s, tile, rows) / sizeof(float));
                for (size_t i = 0; i < ny; i++) y[i] = NAN;
                gb_conv2d_winograd_forward_rows(&s, tile, rows, w, x, y, ws, NULL);
                CHECK(!memcmp(y, y1, ny * 4), "%s: winograd F(%d) forward by %d rows differs", name, tile, rows);
                free(ws);
            }
        gb_pool_init(1);
        // Winograd dx (accumulating onto dx0) against the direct backward in double
        ws = alloc_f(gb_conv2d_winograd_backward_dx_scratch_bytes(&s, tile) / sizeof(float));
        for (int nt = 1; nt <= 3; nt++) {
            gb_pool_init(nt);
            memcpy(dx, dx0, nx * sizeof(float));
            gb_conv2d_winograd_transform_weights_dx(&s, tile, w, u);
            gb_conv2d_winograd_backward_dx(&s, tile, u, dy, dx, 0, ws);
            if (nt == 1) {
                double e = 0;
                for (size_t i = 0; i < nx; i++) e = fmax(e, fabs(dx[i] - rdx[i]));
                CHECK(e < 1e-5 * (OC * 9 + 4), "%s: winograd F(%d) dx max err %g", name, tile, e);
                memcpy(dx1, dx, nx * 4);
            } else {
                CHECK(!memcmp(dx, dx1, nx * 4), "%s: winograd F(%d) dx %d threads not bit-identical", name, tile, nt);
            }
        }
        gb_pool_init(1);
        check_fusion(&s, tile, u, dy, dx0, dx1, nx, 1, name);
        for (int rows = 5; rows <= 10 && rows < s.C; rows += 5)   // "rows", as the forward's
            for (int nt = 1; nt <= 2; nt++) {
                gb_pool_init(nt);
                void *wr = alloc_f(gb_conv2d_winograd_backward_dx_rows_scratch_bytes(&s, tile, rows) / sizeof(float));
                memcpy(dx, dx0, nx * sizeof(float));
                gb_conv2d_winograd_backward_dx_rows(&s, tile, rows, w, dy, dx, 0, wr);
                CHECK(!memcmp(dx, dx1, nx * 4), "%s: winograd F(%d) dx by %d rows differs", name, tile, rows);
                free(wr);
            }
        gb_pool_init(1);
        // store (a new flow): the same bits as adding onto -0.0, whatever dx held
        for (size_t i = 0; i < nx; i++) { dx[i] = -0.0f; dx1[i] = NAN; }
        gb_conv2d_winograd_backward_dx(&s, tile, u, dy, dx, 0, ws);
        gb_conv2d_winograd_backward_dx(&s, tile, u, dy, dx1, 1, ws);
        CHECK(!memcmp(dx, dx1, nx * 4), "%s: winograd F(%d) dx stored differs from dx added to -0", name, tile);
        free(u); free(ws);
    }
    // Winograd dw (accumulating onto dw0), both tiles, against the direct backward in double
    for (int tile = 2; tile <= 4 && gb_conv2d_winograd_ok(&s); tile += 2) {
        void *ws = alloc_f(gb_conv2d_winograd_backward_dw_scratch_bytes(&s, tile, s.OC) / sizeof(float));
        for (int nt = 1; nt <= 3; nt++) {
            gb_pool_init(nt);
            memcpy(dw, dw0, nw * sizeof(float));
            gb_conv2d_winograd_backward_dw(&s, tile, s.OC, x, dy, dw, 0, ws);
            if (nt == 1) {
                double e = 0, scale = 0;
                for (size_t i = 0; i < nw; i++) {
                    e = fmax(e, fabs(dw[i] - rdw[i]));
                    scale = fmax(scale, fabs(rdw[i] - dw0[i]));
                }
                CHECK(e < 1e-5 * (N * s.OH * s.OW + 4), "%s: winograd F(%d) dw max err %g", name, tile, e);
                if (getenv("GB_SHOW_ERR"))
                    printf("%s: F(%dx%d, 3x3) dw max err %.3g (%.2g of max |dw|)\n", name, tile, tile, e, e / scale);
                memcpy(dw1, dw, nw * 4);
            } else {
                CHECK(!memcmp(dw, dw1, nw * 4), "%s: winograd F(%d) dw %d threads not bit-identical", name, tile, nt);
            }
        }
        gb_pool_init(1);
        gb_gemm_set_config(&scalar);
        memcpy(dw, dw0, nw * sizeof(float));
        gb_conv2d_winograd_backward_dw(&s, tile, s.OC, x, dy, dw, 0, ws);
        gb_gemm_set_config(NULL);
        CHECK(!memcmp(dw, dw1, nw * 4), "%s: winograd F(%d) dw scalar microkernel not bit-identical", name, tile);
        for (int rows = 5; rows <= 10 && rows < s.OC; rows += 5)   // "rows": dU^T by chunks of output channels
            for (int nt = 1; nt <= 2; nt++) {
                gb_pool_init(nt);
                void *wr = alloc_f(gb_conv2d_winograd_backward_dw_scratch_bytes(&s, tile, rows) / sizeof(float));
                memcpy(dw, dw0, nw * sizeof(float));
                gb_conv2d_winograd_backward_dw(&s, tile, rows, x, dy, dw, 0, wr);
                CHECK(!memcmp(dw, dw1, nw * 4), "%s: winograd F(%d) dw by %d rows differs", name, tile, rows);
                free(wr);
            }
        gb_pool_init(1);
        for (size_t i = 0; i < nw; i++) { dw[i] = -0.0f; dw1[i] = NAN; }   // store, as for dx
        gb_conv2d_winograd_backward_dw(&s, tile, s.OC, x, dy, dw, 0, ws);
        gb_conv2d_winograd_backward_dw(&s, tile, s.OC, x, dy, dw1, 1, ws);
        CHECK(!memcmp(dw, dw1, nw * 4), "%s: winograd F(%d) dw stored differs from dw added to -0", name, tile);
        free(ws);
    }

    // Central differences on a few entries of x and w (conv is linear in
    // each, so the difference quotient is exact up to float rounding).
    const float eps = 1e-2f;
    memset(dx, 0, nx * 4); memset(dw, 0, nw * 4);
    gb_conv2d_backward(&s, x, w, dy, dx, dw, scratch);     // r = dy
    for (int t = 0; t < 6; t++) {
        size_t i = (size_t)(t * 7919) % nx;
        float keep = x[i];
        x[i] = keep + eps; double lp = loss(&s, x, w, dy, y, scratch);
        x[i] = keep - eps; double lm = loss(&s, x, w, dy, y, scratch);
        x[i] = keep;
        double num = (lp - lm) / (2 * eps);
        CHECK(fabs(num - dx[i]) < 2e-3 * (1 + fabs(num)), "%s: dx[%zu] %g vs numeric %g", name, i, dx[i], num);
        i = (size_t)(t * 104729) % nw;
        keep = w[i];
        w[i] = keep + eps; lp = loss(&s, x, w, dy, y, scratch);
        w[i] = keep - eps; lm = loss(&s, x, w, dy, y, scratch);
        w[i] = keep;
        num = (lp - lm) / (2 * eps);
        CHECK(fabs(num - dw[i]) < 2e-3 * (1 + fabs(num)), "%s: dw[%zu] %g vs numeric %g", name, i, dw[i], num);
    }
    free(x); free(w); free(dy); free(y); free(dx); free(dw); free(dx0); free(dw0);
    free(y1); free(dx1); free(dw1); free(scratch); free(ry); free(rdx); free(rdw);
}

// Winograd takes small images in groups (their tiles side by side in one
// GEMM): the batch must give, bit for bit, what each image gives alone, for
// y and for dx, tile counts that are not multiples of 4 included.
static void test_winograd_batch(int N, int C, int H, int OC) {
    const gb_conv2d_shape s = gb_conv2d_shape_make(N, C, H, H, OC, 3, 3, 1, 1);
    const gb_conv2d_shape one = gb_conv2d_shape_make(1, C, H, H, OC, 3, 3, 1, 1);
    const size_t nx = (size_t)N * C * H * H, ny = (size_t)N * OC * H * H, nw = (size_t)OC * C * 9;
    for (int tile = 2; tile <= 4; tile += 2) {
        float *x = alloc_f(nx), *w = alloc_f(nw), *y = alloc_f(ny), *y1 = alloc_f(ny);
        float *dx = alloc_f(nx), *dx1 = alloc_f(nx), *u = alloc_f(gb_conv2d_winograd_weights_floats(&s, tile));
        float *ud = alloc_f(gb_conv2d_winograd_weights_floats(&s, tile));
        size_t sb = gb_conv2d_winograd_scratch_bytes(&s, tile), db = gb_conv2d_winograd_backward_dx_scratch_bytes(&s, tile);
        void *ws = alloc_f((sb > db ? sb : db) / sizeof(float));
        fill(x, nx); fill(w, nw);
        gb_conv2d_winograd_transform_weights(&s, tile, w, u);
        gb_conv2d_winograd_transform_weights_dx(&s, tile, w, ud);
        gb_conv2d_winograd_forward(&s, tile, u, x, y, ws);
        gb_conv2d_winograd_backward_dx(&s, tile, ud, y, dx, 1, ws);   // dy = y: any numbers do
        for (int n = 0; n < N; n++) {
            gb_conv2d_winograd_forward(&one, tile, u, x + (size_t)n * C * H * H, y1 + (size_t)n * OC * H * H, ws);
            gb_conv2d_winograd_backward_dx(&one, tile, ud, y + (size_t)n * OC * H * H, dx1 + (size_t)n * C * H * H, 1, ws);
        }
        CHECK(!memcmp(y, y1, ny * 4), "winograd F(%d) N=%d %dx%d: the batch differs from image by image", tile, N, H, H);
        CHECK(!memcmp(dx, dx1, nx * 4), "winograd F(%d) dx N=%d %dx%d: the batch differs from image by image", tile, N, H, H);
        free(x); free(w); free(y); free(y1); free(dx); free(dx1); free(u); free(ud); free(ws);
    }
}

// The eval BatchNorm (+ ReLU) epilogue (conv2d.h): run as the conv stores y,
// it must give the bits of the conv, then the BatchNorm pass, then the ReLU,
// on every path the plan can take (Winograd fused, staged, either tile;
// im2col fused per panel, per image, pointwise; no weights object), with 1
// to 3 threads. Guards engine/layers/conv2d.c's gb_conv2d_bn_eval.
static void test_epilogue(int N, int C, int H, int W, int OC, int KH, int KW, int st, int pad) {
    const gb_conv2d_shape s = gb_conv2d_shape_make(N, C, H, W, OC, KH, KW, st, pad);
    const int P = s.OH * s.OW;
    const size_t nx = (size_t)N * C * H * W, nw = (size_t)OC * C * KH * KW, ny = (size_t)N * OC * P;
    float *x = alloc_f(nx), *w = alloc_f(nw), *y = alloc_f(ny), *ref = alloc_f(ny);
    float *gamma = alloc_f(OC), *beta = alloc_f(OC), *rmean = alloc_f(OC), *rvar = alloc_f(OC), *co = alloc_f(2 * OC);
    fill(x, nx); fill(w, nw); fill(gamma, OC); fill(beta, OC); fill(rmean, OC); fill(rvar, OC);
    for (int o = 0; o < OC; o++) rvar[o] = fabsf(rvar[o]) + 0.05f;
    gb_f32_batchnorm_eval_coeffs(OC, gamma, beta, rmean, rvar, 1e-5f, co, co + OC);
    for (int variant = 0; variant < 4; variant++) {   // weights object, gated (F(2x2)), unfused, none
        gb_conv2d_plan_set_fusion(variant == 2 ? 1 : 0, 0);
        gb_conv2d_plan p = gb_conv2d_plan_make(&s, 0, 0, variant == 1, variant != 3);
        gb_conv2d_weights wt = { 0 };
        gb_conv2d_weights_prepare_forward(&wt, &p, w, w, 1);
        float *scratch = alloc_f(p.fwd_scratch_bytes / sizeof(float) + 16);
        for (int relu = 0; relu <= 1; relu++) {
            const gb_conv2d_epilogue e = { co, co + OC, relu };
            gb_pool_init(1);
            gb_conv2d_run_forward(&p, &wt, w, x, ref, scratch);
            gb_f32_batchnorm_forward_eval(N, OC, P, ref, gamma, beta, rmean, rvar, 1e-5f, ref);
            if (relu) gb_f32_relu__scalar(ny, ref, ref);
            for (int nt = 1; nt <= 3; nt++) {
                gb_pool_init(nt);
                memset(y, 0xff, ny * sizeof(float));
                gb_conv2d_run_forward_epilogue(&p, &wt, w, x, y, scratch, &e);
                CHECK(!memcmp(y, ref, ny * 4), "epilogue N%d C%d %dx%d OC%d k%d s%d: algo %d tile %d fused %d, "
                      "relu %d, %d threads: not the bits of conv, batchnorm, relu", N, C, H, W, OC, KH, st, p.fwd,
                      p.fwd_tile, p.fwd_fused, relu, nt);
                if (p.fwd != GB_CONV2D_WINOGRAD || !p.transient) continue;
                // a per-call U too large to make whole is made 5 output channels at a time: the same epilogue
                float *wr = alloc_f(gb_conv2d_winograd_rows_scratch_bytes(&s, p.fwd_tile, 5) / sizeof(float));
                memset(y, 0xff, ny * sizeof(float));
                gb_conv2d_winograd_forward_rows(&s, p.fwd_tile, 5, w, x, y, wr, &e);
                CHECK(!memcmp(y, ref, ny * 4), "epilogue N%d C%d %dx%d OC%d: by rows of 5, relu %d, %d threads: not "
                      "the bits of conv, batchnorm, relu", N, C, H, W, OC, relu, nt);
                free(wr);
            }
        }
        gb_conv2d_weights_free(&wt);
        free(scratch);
    }
    gb_conv2d_plan_set_fusion(0, 0);
    gb_pool_init(1);
    free(x); free(w); free(y); free(ref); free(gamma); free(beta); free(rmean); free(rvar); free(co);
}

int main(void) {
    test_conv(1, 1, 4, 4, 1, 3, 3, 1, 1);
    test_conv(1, 1, 4, 4, 1, 3, 3, 1, 0);
    test_conv(2, 3, 7, 9, 5, 3, 3, 1, 1);     // tails everywhere
    test_conv(1, 4, 16, 16, 8, 3, 3, 1, 1);   // OW % 8 == 0: the one-row im2col path
    test_conv(2, 5, 17, 20, 6, 3, 3, 2, 1);   // stride 2, rows that span panels
    test_conv(1, 6, 10, 10, 7, 1, 1, 1, 0);   // pointwise: no im2col
    test_conv(2, 6, 9, 11, 9, 1, 1, 2, 0);    // downsample 1x1 s2
    test_conv(1, 3, 30, 30, 4, 7, 7, 2, 3);   // ResNet conv1 in small
    test_conv(3, 3, 30, 30, 4, 7, 7, 2, 3);   // ... at batch 3: im2col fused over the images' panels
    test_conv(1, 2, 5, 5, 3, 5, 3, 1, 2);     // non-square kernel, pad > needed
    test_conv(1, 1, 1, 1, 1, 1, 1, 1, 0);
    test_conv(1, 64, 14, 14, 33, 3, 3, 1, 1); // M tails
    test_conv(1, 3, 32, 32, 8, 3, 3, 2, 1);   // stride 2, OW % 8 == 0: the de-interleave path
    test_conv(1, 80, 9, 9, 5, 3, 3, 1, 1);    // K = 720 > 512: two K blocks
    test_conv(2, 3, 8, 6, 4, 3, 3, 1, 0);     // unpadded 3x3: Winograd with even output
    test_conv(1, 2, 4, 5, 3, 3, 3, 1, 2);     // pad 2
    test_conv(1, 3, 10, 30, 5, 3, 3, 1, 1);   // Winograd vector groups (TW = 15: some straddle rows)
    test_conv(2, 4, 12, 28, 6, 3, 3, 1, 1);   // TW = 14
    test_conv(5, 3, 4, 4, 6, 3, 3, 1, 1);     // P = 16: dw sums all 5 images in one GEMM
    test_conv(11, 4, 10, 10, 7, 3, 3, 1, 1);  // P = 100: dw groups of 5, 5 and 1 images
    test_conv(4, 6, 5, 5, 7, 1, 1, 1, 0);     // pointwise, grouped dw
    test_conv(3, 7, 46, 46, 9, 3, 3, 1, 1);   // 529 tiles: Winograd dw sums 3 groups of one image
    test_conv(2, 3, 9, 7, 17, 3, 3, 1, 0);    // Winograd dw: odd output, OC past a B panel
    test_conv(1, 3, 16, 16, 5, 3, 3, 1, 1);   // F(4x4): 4 x 4 whole tiles, vector groups at the border
    test_conv(2, 4, 19, 34, 6, 3, 3, 1, 1);   // F(4x4): partial tiles on both edges, interior vector groups
    test_conv(1, 9, 28, 28, 11, 3, 3, 1, 1);  // ResNet layer2's size (F(4x4): 49 tiles, groups straddle rows)
    test_winograd_batch(5, 3, 7, 4);          // 16 tiles per image, one group
    test_winograd_batch(3, 2, 5, 3);          // 9 tiles: groups of 4 straddle images
    test_winograd_batch(40, 2, 3, 5);         // 4 tiles: all 40 images in one GEMM
    test_winograd_batch(3, 3, 46, 2);         // 529 tiles (F(4x4): 144): one image per group
    test_winograd_batch(7, 2, 16, 3);         // F(4x4): 16 tiles per image
    test_winograd_batch(3, 2, 18, 3);         // F(4x4): 25 tiles per image, groups straddle images
    test_epilogue(2, 5, 14, 14, 9, 3, 3, 1, 1);    // Winograd, fused (small U) or staged
    test_epilogue(1, 4, 10, 13, 6, 3, 3, 1, 1);    // Winograd edge tiles (partial vector groups)
    test_epilogue(2, 3, 40, 40, 6, 7, 7, 2, 3);    // im2col fused: the stem in small
    test_epilogue(2, 6, 9, 11, 7, 3, 3, 2, 1);     // im2col per image (few panels), stride 2
    test_epilogue(2, 6, 7, 7, 5, 1, 1, 1, 0);      // pointwise
    gb_pool_shutdown();
    return test_summary("test_conv2d");
}
