// pool2d.c: max and global-average pooling (maths in pool2d.h).
#include "pool2d.h"

#include "../core/gb_status.h"
#include "../threads/gb_pool.h"
#include "gb_simd128.h"

gb_pool2d_shape gb_pool2d_shape_make(int N, int C, int H, int W, int K, int stride, int pad) {
    GB_ASSERT(N > 0 && C > 0 && H > 0 && W > 0 && K > 0 && stride > 0 && pad >= 0 && 2 * pad <= K,
              "bad pool2d shape");
    gb_pool2d_shape s = { N, C, H, W, K, stride, pad, 0, 0 };
    s.OH = (H + 2 * pad - K) / stride + 1;
    s.OW = (W + 2 * pad - K) / stride + 1;
    return s;
}

typedef struct pool_job {
    const gb_pool2d_shape *s;
    const float *x, *dy;
    float *y, *dx;
    const uint8_t *argmax_in;
    uint8_t *argmax;
    int N, C, HW;
    gb_take_counter taken;   // chunks taken so far (gb_pool_take)
} pool_job;

// max that lets a NaN through, as torch's max pooling does: 4 lanes, 1 lane.
// Take v where v > m or v is NaN (v != v), else keep m. NOTE: neither
// f32x4.pmax (it keeps m when v is NaN) nor f32x4.max (between -0.0 and +0.0
// it picks +0.0, where this scan keeps the first; NaN payloads differ).
static inline v128_t nan_max4(v128_t m, v128_t v) {
    const v128_t take = wasm_v128_or(wasm_f32x4_gt(v, m), wasm_f32x4_ne(v, v));
    return wasm_v128_bitselect(v, m, take);
}
static inline float nan_max(float m, float v) { return ((v > m) | (v != v)) ? v : m; }

// Without argmax (inference) a max is separable: first down each column of
// the window's rows (contiguous: 4 columns at a time), then across the
// window's columns. Same result as the direct loop below.
#define SEPARABLE_MAX_W 1024
static void maxpool_fwd_separable(const gb_pool2d_shape *s, const float *x, float *y) {
    float colmax[SEPARABLE_MAX_W];
    const int W = s->W;
    for (int i = 0; i < s->OH; i++) {
        const int h0 = i * s->stride - s->pad;
        const int ha = h0 < 0 ? 0 : h0, hb = h0 + s->K < s->H ? h0 + s->K : s->H;
        const float *r = x + (size_t)ha * W;
        for (int w = 0; w < W; w++) colmax[w] = r[w];
        for (int h = ha + 1; h < hb; h++) {
            r = x + (size_t)h * W;
            int w = 0;
            for (; w + 4 <= W; w += 4)
                wasm_v128_store(colmax + w, nan_max4(wasm_v128_load(colmax + w), wasm_v128_load(r + w)));
            for (; w < W; w++) colmax[w] = nan_max(colmax[w], r[w]);
        }
        for (int jj = 0; jj < s->OW;) {
            const int w0 = jj * s->stride - s->pad;
            if (s->K == 3 && s->stride == 2 && jj + 4 <= s->OW && w0 >= 0 && w0 + 9 <= W) {
                // ResNet's 3x3 stride 2, 4 outputs at once: lane l's window is
                // c[2l], c[2l + 1], c[2l + 2], taken in that order as below
                const float *c = colmax + w0;
                const v128_t v0 = wasm_v128_load(c), v1 = wasm_v128_load(c + 4), v5 = wasm_v128_load(c + 5);
                const v128_t even = wasm_i32x4_shuffle(v0, v1, 0, 2, 4, 6);   // c[0], c[2], c[4], c[6]
                const v128_t odd = wasm_i32x4_shuffle(v0, v1, 1, 3, 5, 7);    // c[1], c[3], c[5], c[7]
                const v128_t next = wasm_i32x4_shuffle(even, v5, 1, 2, 3, 7); // c[2], c[4], c[6], c[8]
                wasm_v128_store(y + i * s->OW + jj, nan_max4(nan_max4(even, odd), next));
                jj += 4;
                continue;
            }
            const int wa = w0 < 0 ? 0 : w0, wb = w0 + s->K < W ? w0 + s->K : W;
            float m = colmax[wa];
            for (int w = wa + 1; w < wb; w++) m = nan_max(m, colmax[w]);
            y[i * s->OW + jj] = m;
            jj++;
        }
    }
}

// With argmax (training), 4 outputs of a row at once (lane = output column),
// for stride 1 or 2 where the 4 windows and the loads stay inside the row: the
// same scan order and the same selects as the scalar loop below, so the same
// values and the same argmax (ties to the first, the last NaN wins).
// The 4 windows share their rows, so a place in the window (h - h0) * K + kw
// is the same in every lane.
static inline void maxpool_argmax4(const gb_pool2d_shape *s, const float *x, int h0, int ha, int hb, int w0,
                                   float *y, uint8_t *am) {
    const int st = s->stride, W = s->W;
    v128_t m = wasm_f32x4_splat(0.0f);
    v128_t best = wasm_i32x4_splat(0);
    for (int h = ha; h < hb; h++)
        for (int kw = 0; kw < s->K; kw++) {
            const float *p = x + (size_t)h * W + w0 + kw;
            const v128_t v = st == 1 ? wasm_v128_load(p)
                                     : wasm_i32x4_shuffle(wasm_v128_load(p), wasm_v128_load(p + 4), 0, 2, 4, 6);
            const v128_t place = wasm_i32x4_splat((h - h0) * s->K + kw);
            if (h == ha && kw == 0) { m = v; best = place; }   // the scalar loop's start: its first element
            const v128_t take = wasm_v128_or(wasm_f32x4_gt(v, m), wasm_f32x4_ne(v, v));   // NaN propagates
            m = wasm_v128_bitselect(v, m, take);
            best = wasm_v128_bitselect(place, best, take);
        }
    wasm_v128_store(y, m);
    am[0] = (uint8_t)wasm_i32x4_extract_lane(best, 0);
    am[1] = (uint8_t)wasm_i32x4_extract_lane(best, 1);
    am[2] = (uint8_t)wasm_i32x4_extract_lane(best, 2);
    am[3] = (uint8_t)wasm_i32x4_extract_lane(best, 3);
}

static void maxpool_fwd_task(void *ctx, int ith, int nth) {
    pool_job *j = ctx;
    const gb_pool2d_shape *s = j->s;
    int q0, q1;
    while (gb_pool_take(&j->taken, s->N * s->C, ith, nth, &q0, &q1)) {
        if (!j->argmax && s->W <= SEPARABLE_MAX_W) {
            for (int q = q0; q < q1; q++)
                maxpool_fwd_separable(s, j->x + (size_t)q * s->H * s->W, j->y + (size_t)q * s->OH * s->OW);
            continue;
        }
        for (int q = q0; q < q1; q++) {
            const float *x = j->x + (size_t)q * s->H * s->W;
            float *y = j->y + (size_t)q * s->OH * s->OW;
            uint8_t *am = j->argmax ? j->argmax + (size_t)q * s->OH * s->OW : NULL;
            for (int i = 0; i < s->OH; i++) {
                const int h0 = i * s->stride - s->pad;
                const int ha = h0 < 0 ? 0 : h0, hb = h0 + s->K < s->H ? h0 + s->K : s->H;
                for (int jj = 0; jj < s->OW; jj++) {
                    const int w0 = jj * s->stride - s->pad;
                    // 4 outputs whose windows and vector loads (4, or 8 for stride 2) lie in the row
                    if (am && s->stride <= 2 && jj + 4 <= s->OW && w0 >= 0 && w0 + s->K - 1 + 4 * s->stride <= s->W) {
                        maxpool_argmax4(s, x, h0, ha, hb, w0, y + i * s->OW + jj, am + i * s->OW + jj);
                        jj += 3;
                        continue;
                    }
                    const int wa = w0 < 0 ? 0 : w0, wb = w0 + s->K < s->W ? w0 + s->K : s->W;
                    int best = ha * s->W + wa;
                    float m = x[best];
                    for (int h = ha; h < hb; h++)
                        for (int w = wa; w < wb; w++) {   // selects, not branches: the data decide
                            const float v = x[h * s->W + w];
                            const int take = (v > m) | (v != v);   // NaN propagates
                            m = take ? v : m;
                            best = take ? h * s->W + w : best;
                        }
                    y[i * s->OW + jj] = m;
                    if (am) am[i * s->OW + jj] = (uint8_t)((best / s->W - h0) * s->K + best % s->W - w0);
                }
            }
        }
    }
}

void gb_f32_maxpool2d_forward(const gb_pool2d_shape *s, const float *x, float *y, uint8_t *argmax) {
    GB_ASSERT(!argmax || s->K <= GB_MAXPOOL_MAX_K, "maxpool argmax: kernel %d > %d", s->K, GB_MAXPOOL_MAX_K);
    pool_job j = { .s = s, .x = x, .y = y, .argmax = argmax };
    gb_parallel_for(maxpool_fwd_task, &j);
}

static void maxpool_bwd_task(void *ctx, int ith, int nth) {
    pool_job *j = ctx;
    const gb_pool2d_shape *s = j->s;
    int q0, q1;
    while (gb_pool_take(&j->taken, s->N * s->C, ith, nth, &q0, &q1)) {
        const int P = s->OH * s->OW, K = s->K;
        for (int q = q0; q < q1; q++) {
            float *dx = j->dx + (size_t)q * s->H * s->W;
            const float *dy = j->dy + (size_t)q * P;
            const uint8_t *am = j->argmax_in + (size_t)q * P;
            for (int i = 0; i < s->OH; i++)
                for (int jj = 0; jj < s->OW; jj++) {   // the window's corner + the winner's place in it
                    const int k = am[i * s->OW + jj];
                    const int h = i * s->stride - s->pad + k / K, w = jj * s->stride - s->pad + k % K;
                    dx[h * s->W + w] += dy[i * s->OW + jj];
                }
        }
    }
}

void gb_f32_maxpool2d_backward(const gb_pool2d_shape *s, const uint8_t *argmax, const float *dy,
                               float *dx) {
    pool_job j = { .s = s, .dy = dy, .dx = dx, .argmax_in = argmax };
    gb_parallel_for(maxpool_bwd_task, &j);
}

// Sums each plane in 4 interleaved partial sums (float), combined in a fixed
// order: shorter dependency chains, same result for any thread count.
static void avgpool_fwd_task(void *ctx, int ith, int nth) {
    pool_job *j = ctx;
    int q0, q1;
    while (gb_pool_take(&j->taken, j->N * j->C, ith, nth, &q0, &q1)) {
        for (int q = q0; q < q1; q++) {
            const float *x = j->x + (size_t)q * j->HW;
            float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
            int i = 0;
            for (; i + 4 <= j->HW; i += 4) { s0 += x[i]; s1 += x[i + 1]; s2 += x[i + 2]; s3 += x[i + 3]; }
            for (; i < j->HW; i++) s0 += x[i];
            j->y[q] = ((s0 + s1) + (s2 + s3)) / (float)j->HW;
        }
    }
}

void gb_f32_global_avgpool_forward(int N, int C, int HW, const float *x, float *y) {
    pool_job j = { .x = x, .y = y, .N = N, .C = C, .HW = HW };
    gb_parallel_for(avgpool_fwd_task, &j);
}

static void avgpool_bwd_task(void *ctx, int ith, int nth) {
    pool_job *j = ctx;
    int q0, q1;
    while (gb_pool_take(&j->taken, j->N * j->C, ith, nth, &q0, &q1)) {
        for (int q = q0; q < q1; q++) {
            const float g = j->dy[q] / (float)j->HW;
            float *dx = j->dx + (size_t)q * j->HW;
            for (int i = 0; i < j->HW; i++) dx[i] += g;
        }
    }
}

void gb_f32_global_avgpool_backward(int N, int C, int HW, const float *dy, float *dx) {
    pool_job j = { .dy = dy, .dx = dx, .N = N, .C = C, .HW = HW };
    gb_parallel_for(avgpool_bwd_task, &j);
}
