// bench_kernels.c: GFLOP/s of the GEMM microkernels, of a mul+add peak loop
// (the ceiling), and of conv2d forward/backward on every distinct ResNet-18
// conv shape at batch 1, with 1 and 2 threads, and of Winograd's two tiles by
// batch (which tile pays where). Native and wasm builds print the same tables
// (tests/kernels/Makefile: `make bench`).
// Each figure: warm up (V8 tiers a function up only on a later call), then
// the best and the median of several timed repeats. The machine is shared
// and noisy: read the best as the capability, the median as the typical.
#define _POSIX_C_SOURCE 200112L   // clock_gettime under -std=c11
#include "../../engine/kernels/conv2d_plan.h"
#include "../../engine/kernels/gemm.h"
#include "../../engine/kernels/gb_simd128.h"
#include "../../engine/threads/gb_pool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

// Times fn(ctx) `reps` times after `warm` calls: best and median seconds.
typedef void (*bench_fn)(void *ctx);
static void timeit(bench_fn fn, void *ctx, int warm, int reps, double *best, double *median) {
    double t[64];
    if (reps > 64) reps = 64;
    for (int i = 0; i < warm; i++) fn(ctx);
    for (int i = 0; i < reps; i++) {
        double t0 = now();
        fn(ctx);
        t[i] = now() - t0;
    }
    qsort(t, reps, sizeof t[0], cmp_d);
    *best = t[0];
    *median = t[reps / 2];
}

// --- peak: 12 independent chains of acc = acc*m + c (mul and add, no FMA) ----

#define PEAK_ITERS 2000000
__attribute__((noinline)) static float peak_kernel(int iters, float m, float c) {
#define STEP(a) a = wasm_f32x4_add(wasm_f32x4_mul(a, vm), vc)   // a * m + c
#define ADD wasm_f32x4_add
    const v128_t one = wasm_f32x4_splat(1.0f);
    v128_t a0 = one, a1 = ADD(one, wasm_f32x4_splat(0.1f)), a2 = ADD(one, wasm_f32x4_splat(0.2f));
    v128_t a3 = ADD(one, wasm_f32x4_splat(0.3f)), a4 = ADD(one, wasm_f32x4_splat(0.4f));
    v128_t a5 = ADD(one, wasm_f32x4_splat(0.5f)), a6 = ADD(one, wasm_f32x4_splat(0.6f));
    v128_t a7 = ADD(one, wasm_f32x4_splat(0.7f)), a8 = ADD(one, wasm_f32x4_splat(0.8f));
    v128_t a9 = ADD(one, wasm_f32x4_splat(0.9f)), a10 = ADD(one, wasm_f32x4_splat(1.0f));
    v128_t a11 = ADD(one, wasm_f32x4_splat(1.1f));
    const v128_t vm = wasm_f32x4_splat(m), vc = wasm_f32x4_splat(c);
    for (int i = 0; i < iters; i++) {
        STEP(a0); STEP(a1); STEP(a2); STEP(a3); STEP(a4); STEP(a5);
        STEP(a6); STEP(a7); STEP(a8); STEP(a9); STEP(a10); STEP(a11);
    }
    const v128_t s = ADD(ADD(ADD(ADD(a0, a1), ADD(a2, a3)), ADD(ADD(a4, a5), ADD(a6, a7))), ADD(ADD(a8, a9), ADD(a10, a11)));
#undef STEP
#undef ADD
    return wasm_f32x4_extract_lane(s, 0) + wasm_f32x4_extract_lane(s, 1) + wasm_f32x4_extract_lane(s, 2) +
           wasm_f32x4_extract_lane(s, 3);
}
static volatile float sink;
static void peak_task(void *ctx, int ith, int nth) {
    (void)ctx; (void)ith; (void)nth;
    sink = peak_kernel(PEAK_ITERS, 0.999f, 0.001f);
}
static void peak_run(void *ctx) { gb_parallel_for(peak_task, ctx); }

// --- microkernel: one A block and one B panel in L1, called over and over -----

typedef struct uk_ctx {
    gb_f32_gemm_ukernel uk;
    gb_f32_ppmm_ukernel ppmm;   // packed-A form, if set
    int mr, kc, calls;
    const float *a, *b;
    float *c;
} uk_ctx;
static void uk_run(void *p) {
    uk_ctx *u = p;
    for (int i = 0; i < u->calls; i++)
        if (u->ppmm) u->ppmm((size_t)u->kc, u->a, u->b, u->c, 8, 1);
        else u->uk((size_t)u->mr, 8, (size_t)u->kc, u->a, (size_t)u->kc, u->b, u->c, 8, 1);
}

// --- convs -----------------------------------------------------------------------

typedef struct conv_ctx {
    gb_conv2d_shape s;
    float *x, *w, *y, *dx, *dw, *u, *wp;   // wp: w packed for the GEMM (gemm columns)
    void *scratch;
    int tile;                              // Winograd's tile for the eval forward and dx (the faster)
} conv_ctx;
// dx by Winograd takes the faster tile in train mode too (engine/layers/conv2d.c).
static void conv_bwd_wino(void *p) {   // dw by im2col, dx by Winograd (pre-transformed)
    conv_ctx *c = p;
    gb_conv2d_backward(&c->s, c->x, c->w, c->y, NULL, c->dw, c->scratch);
    gb_conv2d_winograd_backward_dx(&c->s, c->tile, c->u, c->y, c->dx, 0, c->scratch);
}
static void conv_wino(void *p) {   // weights transformed once, outside the timing
    conv_ctx *c = p;
    gb_conv2d_winograd_forward(&c->s, c->tile, c->u, c->x, c->y, c->scratch);
}
static void conv_fwd(void *p) { conv_ctx *c = p; gb_conv2d_forward(&c->s, c->x, c->w, c->y, c->scratch); }
static void conv_gemm(void *p) {   // the GEMM alone: im2col and w already packed (c->u)
    conv_ctx *c = p;
    const int K = c->s.C * c->s.KH * c->s.KW, P = c->s.OH * c->s.OW;
    // the packed im2col that conv_fwd left after its packed w (conv2d.c's scratch layout)
    const float *col = (const float *)c->scratch + ((gb_f32_packed_a_floats(c->s.OC, K) + 15) & ~(size_t)15);
    gb_f32_gemm_ppacked(c->s.OC, P, K, c->wp, col, c->y, P, NULL, 0);
}
typedef struct mm_ctx { int n; float *a, *bp, *c; } mm_ctx;
static void mm_run(void *p) {
    mm_ctx *m = p;
    gb_f32_gemm_packed(m->n, m->n, m->n, m->a, m->n, m->bp, m->c, m->n, NULL, 0);
}

static void conv_bwd(void *p) {
    conv_ctx *c = p;
    gb_conv2d_backward(&c->s, c->x, c->w, c->y, c->dx, c->dw, c->scratch);
}

static float *falloc(size_t n) {
    float *p = aligned_alloc(64, (n * sizeof(float) + 63) / 64 * 64 + 64);
    for (size_t i = 0; i < n; i++) p[i] = (float)((i * 2654435761u) % 1000) * 1e-3f - 0.5f;
    return p;
}

// F(4x4)'s time over F(2x2)'s for ResNet-18's 3x3 stride-1 shapes by batch,
// forward, dx and dw, the two tiles called in turn (a slow minute of a shared
// machine slows both): the median of the pairs' ratios, 1 thread. `picks` is
// the tile that gb_conv2d_plan_dx_tile / _dw_tile choose for the shape.
static void tile_table(int pairs) {
    static const struct { const char *name; int C, H; } shapes[] = {
        { "layer1 64 @56", 64, 56 }, { "layer2 128 @28", 128, 28 },
        { "layer3 256 @14", 256, 14 }, { "layer4 512 @7", 512, 7 },
    };
    static const int batches[] = { 1, 2, 4, 8, 16 };
    if (pairs > 63) pairs = 63;
    gb_pool_init(1);
    printf("\nWinograd F(4x4) time / F(2x2) time, median of %d alternated pairs, 1 thread; picks: fwd+dx / dw\n", pairs);
    printf("%-16s %5s %6s %6s %6s %8s\n", "shape", "batch", "fwd", "dx", "dw", "picks");
    for (int i = 0; i < 4; i++)
        for (int bi = 0; bi < 5; bi++) {
            const int N = batches[bi], C = shapes[i].C, H = shapes[i].H;
            const gb_conv2d_shape s = gb_conv2d_shape_make(N, C, H, H, C, 3, 3, 1, 1);
            const size_t nx = (size_t)N * C * H * H;
            float *x = falloc(nx), *y = falloc(nx), *dx = falloc(nx);
            float *w = falloc((size_t)C * C * 9), *dw = falloc((size_t)C * C * 9);
            float *u[2];
            size_t bytes = 0;
            for (int t = 0; t < 2; t++) {
                const int tile = 2 + 2 * t;
                u[t] = falloc(gb_conv2d_winograd_weights_floats(&s, tile));
                gb_conv2d_winograd_transform_weights(&s, tile, w, u[t]);   // the same U serves dx's timing
                const size_t b[3] = { gb_conv2d_winograd_scratch_bytes(&s, tile),
                                      gb_conv2d_winograd_backward_dx_scratch_bytes(&s, tile),
                                      gb_conv2d_winograd_backward_dw_scratch_bytes(&s, tile, s.OC) };
                for (int k = 0; k < 3; k++) bytes = b[k] > bytes ? b[k] : bytes;
            }
            float *scratch = falloc(bytes / sizeof(float) + 1);
            double ratio[3][64];
            for (int op = 0; op < 3; op++) {
                for (int r = -1; r < pairs; r++) {   // r = -1: warm-up
                    double t[2];
                    for (int k = 0; k < 2; k++) {
                        const int tile = 2 + 2 * k;
                        const double t0 = now();
                        if (op == 0) gb_conv2d_winograd_forward(&s, tile, u[k], x, y, scratch);
                        else if (op == 1) gb_conv2d_winograd_backward_dx(&s, tile, u[k], y, dx, 1, scratch);
                        else gb_conv2d_winograd_backward_dw(&s, tile, s.OC, x, y, dw, 1, scratch);
                        t[k] = now() - t0;
                    }
                    if (r >= 0) ratio[op][r] = t[1] / t[0];
                }
                qsort(ratio[op], (size_t)pairs, sizeof(double), cmp_d);
            }
            printf("%-16s %5d %6.2f %6.2f %6.2f %5d / %d\n", shapes[i].name, N, ratio[0][pairs / 2], ratio[1][pairs / 2],
                   ratio[2][pairs / 2], gb_conv2d_plan_dx_tile(&s), gb_conv2d_plan_dw_tile(&s));
            free(x); free(y); free(dx); free(w); free(dw); free(u[0]); free(u[1]); free(scratch);
        }
}

typedef struct rn_conv { const char *name; int count, C, H, OC, k, stride, pad; } rn_conv;
static const rn_conv resnet18[] = {
    { "conv1 7x7 s2 3->64 @224",      1,   3, 224,  64, 7, 2, 3 },
    { "layer1 3x3 64->64 @56",        4,  64,  56,  64, 3, 1, 1 },
    { "layer2.0 3x3 s2 64->128 @56",  1,  64,  56, 128, 3, 2, 1 },
    { "layer2 3x3 128->128 @28",      3, 128,  28, 128, 3, 1, 1 },
    { "layer2 ds 1x1 s2 64->128",     1,  64,  56, 128, 1, 2, 0 },
    { "layer3.0 3x3 s2 128->256 @28", 1, 128,  28, 256, 3, 2, 1 },
    { "layer3 3x3 256->256 @14",      3, 256,  14, 256, 3, 1, 1 },
    { "layer3 ds 1x1 s2 128->256",    1, 128,  28, 256, 1, 2, 0 },
    { "layer4.0 3x3 s2 256->512 @14", 1, 256,  14, 512, 3, 2, 1 },
    { "layer4 3x3 512->512 @7",       3, 512,   7, 512, 3, 1, 1 },
    { "layer4 ds 1x1 s2 256->512",    1, 256,  14, 512, 1, 2, 0 },
};
#define N_RN (int)(sizeof resnet18 / sizeof resnet18[0])

int main(int argc, char **argv) {
    const int reps = argc > 1 ? atoi(argv[1]) : 7;
    const int max_threads = argc > 2 ? atoi(argv[2]) : 2;
    const int do_bwd = argc > 3 ? atoi(argv[3]) : 1;
    const int bwd_batch = argc > 4 ? atoi(argv[4]) : 8;   // the bwdB columns: ms per image at this batch
    const int tile_pairs = argc > 5 ? atoi(argv[5]) : 7;   // the Winograd tile table (0: none)
#if defined(__wasm_simd128__)
    const char *build = "wasm simd128";
#elif defined(__wasm__)
    const char *build = "wasm scalar";
#else
    const char *build = "native (wasm SIMD128 through SIMDe -> SSE)";
#endif
    printf("build: %s, GEMM ukernel: %s, K block (K=4608): %d, repeats: %d\n\n", build,
           gb_gemm_get_config()->name, gb_gemm_kc(64, 1 << 20), reps);

    double best, med, peak1 = 0;
    printf("%-34s %8s %10s %10s\n", "kernel", "threads", "best GF/s", "median");
    for (int nt = 1; nt <= max_threads; nt++) {
        gb_pool_init(nt);
        timeit(peak_run, NULL, 2, 2 * reps, &best, &med);
        const double fl = 96.0 * PEAK_ITERS * nt;   // 12 vectors x 4 lanes x (mul+add)
        if (nt == 1) peak1 = fl / best * 1e-9;
        printf("%-34s %8d %10.1f %10.1f\n", "peak mul+add loop", nt, fl / best * 1e-9, fl / med * 1e-9);
    }
    gb_pool_init(1);

    static const gb_gemm_config uks[] = {
        { NULL, 5, "ppmm 5x8__wasmsimd", gb_f32_ppmm_5x8__wasmsimd, NULL },
        { gb_f32_gemm_4x8__wasmsimd, 4, "gemm 4x8__wasmsimd", NULL, NULL },
        { gb_f32_gemm_6x8__wasmsimd, 6, "gemm 6x8__wasmsimd", NULL, NULL },
        { gb_f32_gemm_4x8__scalar, 4, "gemm 4x8__scalar", NULL, NULL },
    };
    for (int u = 0; u < 4; u++) {
        const int kc = 256;
        uk_ctx c = { uks[u].ukernel, uks[u].ppmm, uks[u].mr, kc, 2000, falloc(6 * kc), falloc(8 * kc), falloc(6 * 8) };
        if (u == 3) c.calls = 200;
        timeit(uk_run, &c, 5, 4 * reps, &best, &med);
        const double fl = 2.0 * uks[u].mr * 8 * kc * c.calls;
        printf("%-34s %8d %10.1f %10.1f   (kc=%d, L1-resident; %.0f%% of peak)\n", uks[u].name, 1,
               fl / best * 1e-9, fl / med * 1e-9, kc, 100 * fl / best * 1e-9 / peak1);
        free((void *)c.a); free((void *)c.b); free(c.c);
    }

    {   // the whole driver on a square problem (B already packed)
        mm_ctx m = { 512, falloc(512 * 512), falloc(gb_f32_packed_b_floats(512, 512)), falloc(512 * 512) };
        for (int nt = 1; nt <= max_threads; nt++) {
            gb_pool_init(nt);
            timeit(mm_run, &m, 3, reps, &best, &med);
            const double fl = 2.0 * 512 * 512 * 512;
            printf("%-34s %8d %10.1f %10.1f\n", "gemm driver 512^3 (B packed)", nt, fl / best * 1e-9, fl / med * 1e-9);
        }
        gb_pool_init(1);
        free(m.a); free(m.bp); free(m.c);
    }

    printf("\nconv2d, batch 1 (GF/s = 2*MACs/time; ms are best of %d; gemm1/2 = GF/s of the GEMM alone, w and im2col packed;\n wino = Winograd forward (the tile gb_conv2d_plan_dx_tile picks at batch 1; dx: the same), weights pre-transformed; its total row = sum of the faster path per shape;\n bwd = dx+dw, the faster of im2col and (im2col dw + Winograd dx); bwdB = the same at batch %d, ms per image)\n", reps, bwd_batch);
    printf("%-30s %3s %7s |%8s %6s %8s %6s %5s |%6s %6s |%7s %7s |%8s %8s |%8s %8s\n", "shape", "x", "MMACs", "fwd1 ms", "GF/s",
           "fwd2 ms", "GF/s", "2t/1t", "gemm1", "gemm2", "wino1ms", "wino2ms", "bwd1 ms", "bwd2 ms", "bwdB1 ms", "bwdB2 ms");
    double tot[4][2] = {{0}}, tot_macs = 0;
    for (int r = 0; r < N_RN; r++) {
        const rn_conv *q = &resnet18[r];
        conv_ctx c;
        c.s = gb_conv2d_shape_make(1, q->C, q->H, q->H, q->OC, q->k, q->k, q->stride, q->pad);
        const size_t nx = (size_t)q->C * q->H * q->H, nw = (size_t)q->OC * q->C * q->k * q->k;
        const size_t ny = (size_t)q->OC * c.s.OH * c.s.OW;
        size_t sb = gb_conv2d_forward_scratch_bytes(&c.s), bb = gb_conv2d_backward_scratch_bytes(&c.s);
        const int wino = gb_conv2d_winograd_ok(&c.s);
        c.tile = wino ? gb_conv2d_plan_dx_tile(&c.s) : 0;
        if (wino && gb_conv2d_winograd_scratch_bytes(&c.s, c.tile) > sb) sb = gb_conv2d_winograd_scratch_bytes(&c.s, c.tile);
        if (wino && gb_conv2d_winograd_backward_dx_scratch_bytes(&c.s, c.tile) > bb) bb = gb_conv2d_winograd_backward_dx_scratch_bytes(&c.s, c.tile);
        c.u = wino ? falloc(gb_conv2d_winograd_weights_floats(&c.s, 4)) : NULL;   // room for either tile
        c.x = falloc(nx); c.w = falloc(nw); c.y = falloc(ny); c.dx = falloc(nx); c.dw = falloc(nw);
        c.scratch = falloc((sb > bb ? sb : bb) / 4);
        c.wp = falloc(gb_f32_packed_a_floats(q->OC, q->C * q->k * q->k));
        gb_f32_pack_a(q->OC, q->C * q->k * q->k, c.w, q->C * q->k * q->k, c.wp);
        const double macs = gb_conv2d_macs(&c.s);
        double tf[2] = {0}, tb[2] = {0}, tg[2] = {0}, tw[2] = {0}, tbb[2] = {0};
        conv_ctx cb = c;   // the same conv at batch bwd_batch (dw sums images in one GEMM)
        cb.s = gb_conv2d_shape_make(bwd_batch, q->C, q->H, q->H, q->OC, q->k, q->k, q->stride, q->pad);
        if (do_bwd && bwd_batch > 1) {
            size_t bbb = gb_conv2d_backward_scratch_bytes(&cb.s);
            if (wino && gb_conv2d_winograd_backward_dx_scratch_bytes(&cb.s, c.tile) > bbb) bbb = gb_conv2d_winograd_backward_dx_scratch_bytes(&cb.s, c.tile);
            cb.x = falloc(nx * bwd_batch); cb.y = falloc(ny * bwd_batch); cb.dx = falloc(nx * bwd_batch);
            cb.scratch = falloc(bbb / 4);
        }
        for (int nt = 1; nt <= max_threads && nt <= 2; nt++) {
            gb_pool_init(nt);
            timeit(conv_fwd, &c, 3, reps, &tf[nt - 1], &med);
            timeit(conv_gemm, &c, 1, reps, &tg[nt - 1], &med);
            if (wino) {
                gb_conv2d_winograd_transform_weights(&c.s, c.tile, c.w, c.u);
                timeit(conv_wino, &c, 3, reps, &tw[nt - 1], &med);
            }
            const double fastest = wino && tw[nt - 1] < tf[nt - 1] ? tw[nt - 1] : tf[nt - 1];
            tot[2][nt - 1] += q->count * fastest;
            if (do_bwd) timeit(conv_bwd, &c, 1, reps < 3 ? reps : 3, &tb[nt - 1], &med);
            if (do_bwd && wino) {
                double twb;
                gb_conv2d_winograd_transform_weights_dx(&c.s, c.tile, c.w, c.u);
                timeit(conv_bwd_wino, &c, 1, reps < 3 ? reps : 3, &twb, &med);
                if (twb < tb[nt - 1]) tb[nt - 1] = twb;   // report the faster backward
            }
            if (do_bwd && bwd_batch > 1) {
                double tbw;
                timeit(conv_bwd, &cb, 1, 2, &tbb[nt - 1], &med);
                if (wino) {
                    timeit(conv_bwd_wino, &cb, 1, 2, &tbw, &med);
                    if (tbw < tbb[nt - 1]) tbb[nt - 1] = tbw;
                }
                tbb[nt - 1] /= bwd_batch;
                tot[3][nt - 1] += q->count * tbb[nt - 1];
            }
            tot[0][nt - 1] += q->count * tf[nt - 1];
            tot[1][nt - 1] += q->count * tb[nt - 1];
        }
        tot_macs += q->count * macs;
        printf("%-30s %3d %7.1f |%8.2f %6.1f %8.2f %6.1f %5.2f |%6.1f %6.1f |%7.2f %7.2f |%8.2f %8.2f |%8.2f %8.2f\n", q->name, q->count,
               macs * 1e-6, tf[0] * 1e3, 2 * macs / tf[0] * 1e-9, tf[1] * 1e3,
               tf[1] > 0 ? 2 * macs / tf[1] * 1e-9 : 0, tf[1] > 0 ? tf[0] / tf[1] : 0,
               2 * macs / tg[0] * 1e-9, tg[1] > 0 ? 2 * macs / tg[1] * 1e-9 : 0, tw[0] * 1e3, tw[1] * 1e3,
               tb[0] * 1e3, tb[1] * 1e3, tbb[0] * 1e3, tbb[1] * 1e3);
        if (do_bwd && bwd_batch > 1) { free(cb.x); free(cb.y); free(cb.dx); free(cb.scratch); }
        free(c.u); free(c.wp);
        free(c.x); free(c.w); free(c.y); free(c.dx); free(c.dw); free(c.scratch);
    }
    printf("%-30s %3s %7.1f |%8.2f %6.1f %8.2f %6.1f %5.2f |%6s %6s |%7.2f %7.2f |%8.2f %8.2f |%8.2f %8.2f\n", "all ResNet-18 convs", "",
           tot_macs * 1e-6, tot[0][0] * 1e3, 2 * tot_macs / tot[0][0] * 1e-9, tot[0][1] * 1e3,
           tot[0][1] > 0 ? 2 * tot_macs / tot[0][1] * 1e-9 : 0, tot[0][1] > 0 ? tot[0][0] / tot[0][1] : 0,
           "", "", tot[2][0] * 1e3, tot[2][1] * 1e3, tot[1][0] * 1e3, tot[1][1] * 1e3, tot[3][0] * 1e3, tot[3][1] * 1e3);
    if (tile_pairs > 0) tile_table(tile_pairs);
    gb_pool_shutdown();
    return 0;
}
