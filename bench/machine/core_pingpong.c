// core_pingpong.c: how far apart are CPU 0 and CPU 1? Two threads, pinned one per CPU,
// hand one cache line back and forth; the round trip over two is the one-way latency of a
// cache line between the cores (~20-40 ns within one core complex, more across chiplets or
// through a hypervisor). Explains why passes that read what the other thread wrote scale badly.
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

#include "probe.h"

#define ROUNDS 200000

static _Alignas(64) atomic_int turn;   // odd: the pong thread's turn, even: the ping thread's

static void *pong(void *arg) {
    (void)arg;
    pin(1);
    for (int i = 0; i < ROUNDS; i++) {
        while (atomic_load_explicit(&turn, memory_order_acquire) != 2 * i + 1) {}
        atomic_store_explicit(&turn, 2 * i + 2, memory_order_release);
    }
    return NULL;
}

int main(void) {
    pthread_t t;
    pin(0);
    pthread_create(&t, NULL, pong, NULL);
    const double t0 = now();
    for (int i = 0; i < ROUNDS; i++) {
        atomic_store_explicit(&turn, 2 * i + 1, memory_order_release);
        while (atomic_load_explicit(&turn, memory_order_acquire) != 2 * i + 2) {}
    }
    const double ns = (now() - t0) / ROUNDS * 1e9;
    pthread_join(t, NULL);
    printf("cpu0 <-> cpu1: round trip %.0f ns, one way ~%.0f ns\n", ns, ns / 2);
    return 0;
}
