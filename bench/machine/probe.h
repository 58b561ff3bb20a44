// probe.h: what both machine probes need: a monotonic clock and pinning to one CPU.
#ifndef GB_PROBE_H
#define GB_PROBE_H

#include <pthread.h>
#include <sched.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

// The calling thread runs on `cpu` only from here on.
static void pin(int cpu) {
    cpu_set_t s;
    CPU_ZERO(&s);
    CPU_SET(cpu, &s);
    pthread_setaffinity_np(pthread_self(), sizeof s, &s);
}

#endif
