// cross_core_read.c: a buffer written on CPU 0, then read (summed) on CPU 0 and on CPU 1:
// the read speed of data the other core wrote, against data this core wrote, by size. A
// 2-thread pass whose input the other thread produced reads part of it at the second speed.
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "probe.h"

static float *buf;
static size_t n;
static volatile float sink;

typedef struct job { int cpu, read; double seconds; } job;

static void *run(void *arg) {
    job *j = arg;
    pin(j->cpu);
    if (!j->read) {
        for (size_t i = 0; i < n; i++) buf[i] = (float)i;
        return NULL;
    }
    const double t0 = now();
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;   // four chains, so the adds are not the limit
    for (size_t i = 0; i < n; i += 4) { s0 += buf[i]; s1 += buf[i + 1]; s2 += buf[i + 2]; s3 += buf[i + 3]; }
    sink = s0 + s1 + s2 + s3;
    j->seconds = now() - t0;
    return NULL;
}

static double on_cpu(int cpu, int read) {
    pthread_t t;
    job j = { cpu, read, 0 };
    pthread_create(&t, NULL, run, &j);
    pthread_join(t, NULL);
    return j.seconds;
}

int main(void) {
    static const size_t kbs[] = { 256, 1024, 4096, 16384 };
    for (int k = 0; k < 4; k++) {
        n = kbs[k] * 256;
        buf = aligned_alloc(64, n * sizeof(float));
        double own = 0, other = 0;
        for (int r = 0; r < 20; r++) {
            on_cpu(0, 0);
            own += on_cpu(0, 1);
            on_cpu(0, 0);
            other += on_cpu(1, 1);
        }
        const double bytes = 20.0 * n * sizeof(float);
        printf("%6zu KB written on cpu0: read on cpu0 %5.1f GB/s, on cpu1 %5.1f GB/s (%.2fx)\n", kbs[k],
               bytes / own * 1e-9, bytes / other * 1e-9, own / other);
        free(buf);
    }
    return 0;
}
