// core_speed.c: do CPU 0 and CPU 1 run the same work at the same speed? The same two loops,
// pinned to one CPU then the other, five times in turn: a compute loop (12 independent
// multiply-add chains of 4-float vectors) and a stream over 256 KB (in L2: y = 1.5 x + 0.5).
// On this VM one vCPU streams, at times and for minutes, at 0.4-0.7x the other's speed, and
// computes alike or a little slower (most likely the host runs something else on that core;
// the guest sees no steal time; run this on an otherwise idle machine): then no split of one job over both CPUs can go 2x faster
// than one CPU (bench/ort/bench-core.mjs, benchScaling).
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>

#include "probe.h"

typedef float v4 __attribute__((vector_size(16)));

static double compute_gflops(void) {
    const v4 m = { 0.999f, 0.999f, 0.999f, 0.999f }, c = { 0.001f, 0.001f, 0.001f, 0.001f };
    v4 a0 = m, a1 = m, a2 = m, a3 = m, a4 = m, a5 = m, a6 = m, a7 = m, a8 = m, a9 = m, a10 = m, a11 = m;
    const long iters = 50000000;
    const double t0 = now();
    for (long i = 0; i < iters; i++) {
        a0 = a0 * m + c; a1 = a1 * m + c; a2 = a2 * m + c; a3 = a3 * m + c;
        a4 = a4 * m + c; a5 = a5 * m + c; a6 = a6 * m + c; a7 = a7 * m + c;
        a8 = a8 * m + c; a9 = a9 * m + c; a10 = a10 * m + c; a11 = a11 * m + c;
        __asm__ volatile("" : "+x"(a0), "+x"(a1), "+x"(a2), "+x"(a3), "+x"(a4), "+x"(a5), "+x"(a6), "+x"(a7),
                                "+x"(a8), "+x"(a9), "+x"(a10), "+x"(a11));
    }
    const double t = now() - t0;
    const v4 sum = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11;
    if (sum[0] == 42.0f) printf(" ");   // keep the chains
    return iters * 12 * 4 * 2 / t / 1e9;
}

static double stream_gbs(float *x, float *y, size_t n) {
    const int reps = 2000;
    const double t0 = now();
    for (int r = 0; r < reps; r++) {
        for (size_t i = 0; i < n; i++) y[i] = x[i] * 1.5f + 0.5f;
        __asm__ volatile("" ::: "memory");
    }
    return (double)n * 8 * reps / (now() - t0) / 1e9;
}

int main(void) {
    const size_t n = (256u << 10) / 8;   // x and y: 128 KB each
    float *x = aligned_alloc(64, n * sizeof(float)), *y = aligned_alloc(64, n * sizeof(float));
    for (size_t i = 0; i < n; i++) x[i] = (float)i, y[i] = 0.0f;
    printf("round  cpu0 GFLOP/s  cpu1 GFLOP/s  cpu0 GB/s  cpu1 GB/s   (cpu0 / cpu1)\n");
    for (int round = 1; round <= 5; round++) {
        double g[2], s[2];
        for (int cpu = 0; cpu < 2; cpu++) {
            pin(cpu);
            g[cpu] = compute_gflops();
            s[cpu] = stream_gbs(x, y, n);
        }
        printf("%5d  %12.1f  %12.1f  %9.1f  %9.1f   (%.2f, %.2f)\n", round, g[0], g[1], s[0], s[1], g[0] / g[1], s[0] / s[1]);
    }
    free(x);
    free(y);
    return 0;
}
