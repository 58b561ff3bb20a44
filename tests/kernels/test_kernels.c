// test_kernels.c: relu (SIMD vs scalar twin, bit for bit), maxpool,
// global average pool and batchnorm: forward against direct double loops,
// backward against central differences of L = sum(op(x) * r), and every
// op bit-identical for 1, 2 and 3 threads.
#include "gb_test.h"
#include "../../engine/kernels/kernels.h"
#include "../../engine/threads/gb_pool.h"

// The twins side by side, called by name: the SIMD one compiles in every
// build (without -msimd128 its vector loops become scalar code).
static void test_relu(void) {
    for (size_t n = 0; n < 70; n++) {
        float *x = alloc_f(n + 1), *y1 = alloc_f(n + 1), *y2 = alloc_f(n + 1), *dy = alloc_f(n + 1);
        float *d1 = alloc_f(n + 1), *d2 = alloc_f(n + 1);
        fill(x, n); fill(dy, n); fill(d1, n);
        if (n > 3) { x[0] = 0.0f; x[1] = -0.0f; x[2] = NAN; x[3] = -INFINITY; }
        memcpy(d2, d1, n * 4);
        gb_f32_relu__wasmsimd(n, x, y1); gb_f32_relu__scalar(n, x, y2);
        CHECK(!memcmp(y1, y2, n * 4), "relu n=%zu: wasmsimd differs from scalar", n);
        for (size_t i = 0; i < n; i++)
            CHECK(x[i] != x[i] ? y2[i] != y2[i] : y2[i] == (x[i] > 0 ? x[i] : 0.0f), "relu value n=%zu i=%zu", n, i);
        // x < 0 ? 0 : x exactly, as PyTorch: -0.0 stays -0.0 and a NaN keeps its bits
        if (n > 3) CHECK(!memcmp(&y2[1], &x[1], 4) && !memcmp(&y2[2], &x[2], 4), "relu n=%zu: -0.0 or NaN changed", n);
        // The gate kept as bits: the same y, and bit i = !(y[i] <= 0) (NaN open, -0.0 shut)
        uint16_t g1[5], g2[5];
        memset(g1, 0xaa, sizeof g1); memset(g2, 0x55, sizeof g2);
        float *y3 = alloc_f(n + 1), *y4 = alloc_f(n + 1);
        gb_f32_relu_gate__wasmsimd(n, x, y3, g1); gb_f32_relu_gate__scalar(n, x, y4, g2);
        CHECK(!memcmp(y3, y2, n * 4) && !memcmp(y4, y2, n * 4), "relu_gate n=%zu: y differs from relu's", n);
        CHECK(!memcmp(g1, g2, (n + 15) / 16 * 2), "relu_gate n=%zu: wasmsimd's gate differs from scalar's", n);
        for (size_t i = 0; i < (n + 15) / 16 * 16; i++)
            CHECK((g2[i / 16] >> (i % 16) & 1) == (i < n && !(y2[i] <= 0.0f)), "relu gate bit n=%zu i=%zu", n, i);
        free(y3); free(y4);
        gb_f32_relu_backward__wasmsimd(n, g1, dy, d1, 0); gb_f32_relu_backward__scalar(n, g2, dy, d2, 0);
        CHECK(!memcmp(d1, d2, n * 4), "relu_backward n=%zu: wasmsimd differs from scalar", n);
        // store (a new flow): the same bits as adding onto -0.0, in both twins
        for (size_t i = 0; i < n; i++) { d1[i] = -0.0f; d2[i] = NAN; }
        gb_f32_relu_backward__scalar(n, g1, dy, d1, 0); gb_f32_relu_backward__wasmsimd(n, g1, dy, d2, 1);
        CHECK(!memcmp(d1, d2, n * 4), "relu_backward n=%zu: wasmsimd store differs from adding to -0", n);
        for (size_t i = 0; i < n; i++) {   // PyTorch's threshold_backward: dy where !(y <= 0), else +0.0
            const float want = y2[i] <= 0.0f ? 0.0f : dy[i];
            CHECK(!memcmp(&d1[i], &want, 4), "relu_backward n=%zu i=%zu: not dy * [y > 0]", n, i);
            d2[i] = NAN;
        }
        gb_f32_relu_backward__scalar(n, g1, dy, d2, 1);
        CHECK(!memcmp(d1, d2, n * 4), "relu_backward n=%zu: scalar store differs from adding to -0", n);
        free(x); free(y1); free(y2); free(dy); free(d1); free(d2);
    }
}

// Distinct values (a shuffled ramp) so that max is never a tie and a small
// nudge never changes the winner: the central difference is exact.
static void fill_distinct(float *p, size_t n) {
    for (size_t i = 0; i < n; i++) p[i] = (float)i * 0.01f - (float)n * 0.005f;
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)((rnd() * 0.5f + 0.5f) * (float)i) % i;
        float t = p[i - 1]; p[i - 1] = p[j]; p[j] = t;
    }
}

// The argmax as PyTorch's CPU kernel picks it: scan order, the first of equal
// maxima, and the last NaN (a NaN always wins); kept as its place in the
// window, (h - h0) * K + (w - w0).
static void maxpool_reference(const gb_pool2d_shape *s, const float *x, float *y, uint8_t *am) {
    for (int q = 0; q < s->N * s->C; q++)
        for (int i = 0; i < s->OH; i++)
            for (int j = 0; j < s->OW; j++) {
                int best = -1;
                float m = 0;
                for (int h = i * s->stride - s->pad; h < i * s->stride - s->pad + s->K; h++)
                    for (int w = j * s->stride - s->pad; w < j * s->stride - s->pad + s->K; w++) {
                        if (h < 0 || h >= s->H || w < 0 || w >= s->W) continue;
                        const float v = x[(size_t)q * s->H * s->W + h * s->W + w];
                        if (best < 0 || v > m || v != v) {
                            m = v;
                            best = (h - (i * s->stride - s->pad)) * s->K + w - (j * s->stride - s->pad);
                        }
                    }
                y[((size_t)q * s->OH + i) * s->OW + j] = m;
                am[((size_t)q * s->OH + i) * s->OW + j] = (uint8_t)best;
            }
}

// Ties and NaNs: values from {0, 1, 2} with a NaN here and there, against the reference.
static void test_maxpool_ties(int N, int C, int H, int W, int K, int st, int pad) {
    const gb_pool2d_shape s = gb_pool2d_shape_make(N, C, H, W, K, st, pad);
    const size_t nx = (size_t)N * C * H * W, ny = (size_t)N * C * s.OH * s.OW;
    float *x = alloc_f(nx), *y = alloc_f(ny), *yr = alloc_f(ny);
    uint8_t *am = malloc(ny), *amr = malloc(ny);
    for (size_t i = 0; i < nx; i++) x[i] = i % 53 == 7 ? NAN : (float)((i * 2654435761u) % 3);
    maxpool_reference(&s, x, yr, amr);
    for (int nt = 1; nt <= 2; nt++) {
        gb_pool_init(nt);
        gb_f32_maxpool2d_forward(&s, x, y, am);
        int same = 1;
        for (size_t k = 0; k < ny; k++) same &= am[k] == amr[k] && (y[k] == yr[k] || (y[k] != y[k] && yr[k] != yr[k]));
        CHECK(same, "maxpool %dx%d k%d s%d: argmax with ties and NaNs differs from the reference scan", H, W, K, st);
    }
    gb_pool_init(1);
    free(x); free(y); free(yr); free(am); free(amr);
}

static void test_maxpool(int N, int C, int H, int W, int K, int st, int pad) {
    const gb_pool2d_shape s = gb_pool2d_shape_make(N, C, H, W, K, st, pad);
    const size_t nx = (size_t)N * C * H * W, ny = (size_t)N * C * s.OH * s.OW;
    float *x = alloc_f(nx), *y = alloc_f(ny), *y1 = alloc_f(ny), *dy = alloc_f(ny);
    float *dx = alloc_f(nx), *dx1 = alloc_f(nx);
    uint8_t *am = malloc(ny);
    fill_distinct(x, nx); fill(dy, ny);
    for (int nt = 1; nt <= 3; nt++) {
        gb_pool_init(nt);
        memset(dx, 0, nx * 4);
        gb_f32_maxpool2d_forward(&s, x, y, am);
        gb_f32_maxpool2d_backward(&s, am, dy, dx);
        if (nt == 1) { memcpy(y1, y, ny * 4); memcpy(dx1, dx, nx * 4); }
        else CHECK(!memcmp(y, y1, ny * 4) && !memcmp(dx, dx1, nx * 4), "maxpool: %d threads differ", nt);
    }
    gb_pool_init(1);
    for (int q = 0; q < N * C; q++)               // direct max over the window
        for (int i = 0; i < s.OH; i++)
            for (int j = 0; j < s.OW; j++) {
                float m = -INFINITY;
                for (int h = i * st - pad; h < i * st - pad + K; h++)
                    for (int w = j * st - pad; w < j * st - pad + K; w++)
                        if (h >= 0 && h < H && w >= 0 && w < W && x[(size_t)q * H * W + h * W + w] > m)
                            m = x[(size_t)q * H * W + h * W + w];
                CHECK(y1[((size_t)q * s.OH + i) * s.OW + j] == m, "maxpool value q=%d i=%d j=%d", q, i, j);
            }
    // Without argmax the kernel takes its separable path: the same values,
    // and a NaN anywhere in a window still wins (planted in every 5th plane).
    gb_f32_maxpool2d_forward(&s, x, y, NULL);
    CHECK(!memcmp(y, y1, ny * 4), "maxpool without argmax differs");
    float *xn = alloc_f(nx), *yn = alloc_f(ny), *yn1 = alloc_f(ny);
    memcpy(xn, x, nx * 4);
    for (size_t i = 0; i < nx; i += 5 * (size_t)H * W + 7) xn[i] = NAN;
    gb_f32_maxpool2d_forward(&s, xn, yn, am);
    gb_f32_maxpool2d_forward(&s, xn, yn1, NULL);
    int nans = 0, same = 1;
    for (size_t k = 0; k < ny; k++) {
        nans += yn[k] != yn[k];
        same &= (yn[k] != yn[k]) ? yn1[k] != yn1[k] : yn[k] == yn1[k];
    }
    CHECK(nans > 0 && same, "maxpool with NaNs: %d NaN outputs, paths agree %d", nans, same);
    free(xn); free(yn); free(yn1);
    const float eps = 1e-3f;                      // L = sum(y * dy)
    for (size_t t = 0; t < 12; t++) {
        size_t i = (t * 7919) % nx;
        float keep = x[i];
        double lp = 0, lm = 0;
        x[i] = keep + eps; gb_f32_maxpool2d_forward(&s, x, y, NULL);
        for (size_t k = 0; k < ny; k++) lp += (double)y[k] * dy[k];
        x[i] = keep - eps; gb_f32_maxpool2d_forward(&s, x, y, NULL);
        for (size_t k = 0; k < ny; k++) lm += (double)y[k] * dy[k];
        x[i] = keep;
        double num = (lp - lm) / (2 * eps);
        CHECK(fabs(num - dx1[i]) < 1e-3 * (1 + fabs(num)), "maxpool dx[%zu] %g vs numeric %g", i, dx1[i], num);
    }
    free(x); free(y); free(y1); free(dy); free(dx); free(dx1); free(am);
}

static void test_avgpool(int N, int C, int HW) {
    const size_t nx = (size_t)N * C * HW, ny = (size_t)N * C;
    float *x = alloc_f(nx), *y = alloc_f(ny), *dy = alloc_f(ny), *dx = alloc_f(nx);
    fill(x, nx); fill(dy, ny); fill(dx, nx);
    float *dx0 = alloc_f(nx);
    memcpy(dx0, dx, nx * 4);
    gb_f32_global_avgpool_forward(N, C, HW, x, y);
    gb_f32_global_avgpool_backward(N, C, HW, dy, dx);
    for (size_t q = 0; q < ny; q++) {
        double s = 0;
        for (int i = 0; i < HW; i++) s += x[q * HW + i];
        CHECK(fabs(y[q] - s / HW) < 1e-6, "avgpool q=%zu", q);
        for (int i = 0; i < HW; i++)
            CHECK(fabs(dx[q * HW + i] - dx0[q * HW + i] - dy[q] / HW) < 1e-6, "avgpool backward q=%zu", q);
    }
    free(x); free(y); free(dy); free(dx); free(dx0);
}

// L = sum(bn(x) * r) for the central differences.
static double bn_loss(int N, int C, int HW, const float *x, const float *g, const float *b,
                      const float *r, float *y) {
    gb_f32_batchnorm_forward_train(N, C, HW, x, g, b, 1e-5f, 0.1f, NULL, NULL, y, NULL, NULL);
    double L = 0;
    for (size_t i = 0; i < (size_t)N * C * HW; i++) L += (double)y[i] * r[i];
    return L;
}

static void test_batchnorm(int N, int C, int HW) {
    const size_t n = (size_t)N * C * HW;
    float *x = alloc_f(n), *y = alloc_f(n), *y1 = alloc_f(n), *dy = alloc_f(n), *dx = alloc_f(n), *dx1 = alloc_f(n);
    float *g = alloc_f(C), *b = alloc_f(C), *rm = alloc_f(C), *rv = alloc_f(C), *sm = alloc_f(C), *si = alloc_f(C);
    float *dg = alloc_f(C), *db = alloc_f(C), *dg1 = alloc_f(C), *db1 = alloc_f(C);
    fill(x, n); fill(dy, n); fill(g, C); fill(b, C);
    for (size_t i = 0; i < n; i++) x[i] = x[i] * 3.0f + 0.5f;   // mean and var away from 0 and 1
    for (int nt = 1; nt <= 3; nt++) {
        gb_pool_init(nt);
        for (int c = 0; c < C; c++) { rm[c] = 0.0f; rv[c] = 1.0f; dg[c] = db[c] = 0.0f; }
        memset(dx, 0, n * 4);
        gb_f32_batchnorm_forward_train(N, C, HW, x, g, b, 1e-5f, 0.1f, rm, rv, y, sm, si);
        gb_f32_batchnorm_backward(N, C, HW, x, dy, g, sm, si, 1, dx, 0, dg, db);
        if (nt == 1) { memcpy(y1, y, n * 4); memcpy(dx1, dx, n * 4); memcpy(dg1, dg, C * 4); memcpy(db1, db, C * 4); }
        else CHECK(!memcmp(y, y1, n * 4) && !memcmp(dx, dx1, n * 4) && !memcmp(dg, dg1, C * 4) && !memcmp(db, db1, C * 4),
                   "batchnorm: %d threads differ", nt);
    }
    gb_pool_init(1);
    // store_dx (a new flow): the same bits as adding onto -0.0, whatever dx held
    for (size_t i = 0; i < n; i++) { dx[i] = -0.0f; y[i] = NAN; }
    gb_f32_batchnorm_backward(N, C, HW, x, dy, g, sm, si, 1, dx, 0, NULL, NULL);
    gb_f32_batchnorm_backward(N, C, HW, x, dy, g, sm, si, 1, y, 1, NULL, NULL);
    CHECK(!memcmp(dx, y, n * 4), "batchnorm: dx stored differs from dx added to -0");
    memcpy(y, y1, n * 4);
    const double cnt = (double)N * HW;
    for (int c = 0; c < C; c++) {                 // statistics, in double
        double s = 0, q = 0;
        for (int k = 0; k < N; k++) for (int i = 0; i < HW; i++) s += x[((size_t)k * C + c) * HW + i];
        const double mean = s / cnt;
        for (int k = 0; k < N; k++) for (int i = 0; i < HW; i++) {
            double d = x[((size_t)k * C + c) * HW + i] - mean; q += d * d;
        }
        const double var = q / cnt;
        CHECK(fabs(rm[c] - 0.1 * mean) < 1e-6, "running_mean c=%d", c);
        CHECK(fabs(rv[c] - (0.9 + 0.1 * var * cnt / (cnt - 1))) < 1e-5, "running_var (unbiased) c=%d", c);
        for (int k = 0; k < N; k++) for (int i = 0; i < HW; i++) {
            const size_t o = ((size_t)k * C + c) * HW + i;
            const double ref = (x[o] - mean) / sqrt(var + 1e-5) * g[c] + b[c];
            CHECK(fabs(y1[o] - ref) < 1e-5, "bn forward c=%d: %g vs %g", c, y1[o], ref);
        }
    }
    // eval: with running stats set to the batch stats, eval == train forward
    float *ev = alloc_f(C);
    for (int c = 0; c < C; c++) ev[c] = 1.0f / (si[c] * si[c]) - 1e-5f;
    gb_f32_batchnorm_forward_eval(N, C, HW, x, g, b, sm, ev, 1e-5f, y);
    for (size_t i = 0; i < n; i++) CHECK(fabs(y[i] - y1[i]) < 1e-4, "bn eval i=%zu %g vs %g", i, y[i], y1[i]);
    // central differences
    const float eps = 1e-2f;
    for (int t = 0; t < 8; t++) {
        size_t i = (size_t)(t * 7919) % n;
        float keep = x[i];
        x[i] = keep + eps; double lp = bn_loss(N, C, HW, x, g, b, dy, y);
        x[i] = keep - eps; double lm = bn_loss(N, C, HW, x, g, b, dy, y);
        x[i] = keep;
        double num = (lp - lm) / (2 * eps);
        CHECK(fabs(num - dx1[i]) < 3e-3 * (1 + fabs(num)), "bn dx[%zu] %g vs numeric %g", i, dx1[i], num);
        int c = t % C;
        float *pp[2] = { g, b }, *an[2] = { dg1, db1 };
        for (int w = 0; w < 2; w++) {
            keep = pp[w][c];
            pp[w][c] = keep + eps; lp = bn_loss(N, C, HW, x, g, b, dy, y);
            pp[w][c] = keep - eps; lm = bn_loss(N, C, HW, x, g, b, dy, y);
            pp[w][c] = keep;
            num = (lp - lm) / (2 * eps);
            CHECK(fabs(num - an[w][c]) < 3e-3 * (1 + fabs(num)), "bn d%s[%d] %g vs numeric %g",
                  w ? "beta" : "gamma", c, an[w][c], num);
        }
    }
    free(x); free(y); free(y1); free(dy); free(dx); free(dx1); free(g); free(b); free(rm); free(rv);
    free(sm); free(si); free(dg); free(db); free(dg1); free(db1); free(ev);
}

int main(void) {
    test_relu();
    test_maxpool(2, 3, 12, 12, 3, 2, 1);   // ResNet's stem pool
    test_maxpool(1, 2, 11, 9, 3, 2, 1);    // odd sizes
    test_maxpool(1, 4, 8, 8, 2, 2, 0);
    test_maxpool(1, 3, 7, 13, 3, 1, 1);    // stride 1, width not a multiple of 4
    test_maxpool(1, 2, 30, 38, 3, 2, 1);   // argmax in vector groups of 4 outputs, and the row ends
    test_maxpool_ties(2, 3, 12, 12, 3, 2, 1);
    test_maxpool_ties(1, 2, 30, 38, 3, 2, 1);
    test_maxpool_ties(1, 3, 9, 21, 3, 1, 1);
    test_maxpool_ties(1, 2, 11, 17, 2, 2, 0);
    test_maxpool_ties(1, 2, 40, 40, 15, 2, 7);   // K = 15: the last places of a byte
    test_avgpool(2, 5, 49);
    test_avgpool(1, 3, 1);
    test_batchnorm(2, 3, 25);
    test_batchnorm(4, 5, 7);
    test_batchnorm(1, 2, 9);
#ifdef GB_KERNELS_SIMD
    printf("kernels: SIMD twins, gemm %s\n", gb_gemm_get_config()->name);
#else
    printf("kernels: scalar twins, gemm %s\n", gb_gemm_get_config()->name);
#endif
    gb_pool_shutdown();
    return test_summary("test_kernels");
}
