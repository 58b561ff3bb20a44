// gb_pool.c: the persistent pool behind gb_parallel_for.
//
// Hand-off protocol (one job at a time, issued by one caller thread):
//   caller: job = {fn, ctx, nth}; pending = nth-1; generation++ ; run ith 0;
//           wait until pending == 0.
//   worker: wait until generation changes; run its ith; pending--.
// Both waits spin first (a job every few hundred microseconds is the common
// case inside a network forward, and a futex round trip costs ~10-50 us in
// wasm), then fall back to a condition variable. Sleepers are counted so the
// fast path never touches the mutex.
// NOTE: the "sleepers" counters and the values they guard are seq_cst atomics:
// a waiter increments its counter *then* re-checks the condition; a waker
// changes the condition *then* reads the counter. With sequential consistency
// at least one of them sees the other, so no wake-up is lost.
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L   // clock_gettime, CLOCK_MONOTONIC under -std=c11
#endif
#define GB_POOL_IMPL   // gb_parallel_for is this file's own, not the profiling macro
#include "gb_pool.h"

#include <time.h>
#ifdef __EMSCRIPTEN__
#include <emscripten.h>
#endif

double gb_now_ms(void) {
#ifdef __EMSCRIPTEN__
    return emscripten_get_now();
#else
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
#endif
}

#ifdef GB_THREADS
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

// Polling before sleeping: ~0.1-0.5 ms either way (x86 `pause` takes
// ~40-140 cycles; wasm has no pause, an atomic load is ~1 ns).
#if defined(__x86_64__) || defined(__i386__)
#define SPIN_ITERS 10000
#else
#define SPIN_ITERS 200000
#endif

static struct {
    int n;                          // threads including the caller
    pthread_t th[GB_POOL_MAX_THREADS];
    gb_task_fn fn;
    void *ctx;
    atomic_uint generation;         // bumped once per job (and for shutdown)
    atomic_int pending;             // workers still running the current job
    atomic_int stop;
    atomic_int workers_sleeping;
    atomic_int caller_sleeping;
    pthread_mutex_t mu;
    pthread_cond_t work_cv, done_cv;
} P = { .n = 1, .mu = PTHREAD_MUTEX_INITIALIZER,
        .work_cv = PTHREAD_COND_INITIALIZER, .done_cv = PTHREAD_COND_INITIALIZER };

static _Thread_local int in_parallel;   // nested parallel_for runs inline

#ifdef GB_PROFILE_PASSES
static void pass_busy(int ith, double ms);
#define BUSY_START() const double busy_t0 = gb_now_ms()
#define BUSY_END(ith) pass_busy(ith, gb_now_ms() - busy_t0)
#else
#define BUSY_START() (void)0
#define BUSY_END(ith) (void)0
#endif

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static unsigned wait_new_generation(unsigned seen) {
    for (int i = 0; i < SPIN_ITERS; i++) {
        unsigned g = atomic_load_explicit(&P.generation, memory_order_acquire);
        if (g != seen) return g;
        cpu_relax();
    }
    pthread_mutex_lock(&P.mu);
    atomic_fetch_add(&P.workers_sleeping, 1);
    unsigned g;
    while ((g = atomic_load(&P.generation)) == seen) pthread_cond_wait(&P.work_cv, &P.mu);
    atomic_fetch_sub(&P.workers_sleeping, 1);
    pthread_mutex_unlock(&P.mu);
    return g;
}

static void *worker_main(void *arg) {
    int ith = (int)(intptr_t)arg;
    unsigned seen = 0;
    in_parallel = 1;
    for (;;) {
        seen = wait_new_generation(seen);
        if (atomic_load(&P.stop)) break;
        BUSY_START();
        P.fn(P.ctx, ith, P.n);
        BUSY_END(ith);
        if (atomic_fetch_sub(&P.pending, 1) == 1 && atomic_load(&P.caller_sleeping)) {
            pthread_mutex_lock(&P.mu);
            pthread_cond_broadcast(&P.done_cv);
            pthread_mutex_unlock(&P.mu);
        }
    }
    return NULL;
}

static void wake_workers(void) {
    atomic_fetch_add(&P.generation, 1);
    if (atomic_load(&P.workers_sleeping) > 0) {
        pthread_mutex_lock(&P.mu);
        pthread_cond_broadcast(&P.work_cv);
        pthread_mutex_unlock(&P.mu);
    }
}

gb_status gb_pool_init(int n_threads) {
    if (n_threads < 1) n_threads = 1;
    if (n_threads > GB_POOL_MAX_THREADS) n_threads = GB_POOL_MAX_THREADS;
    if (n_threads == P.n) return GB_OK;
    gb_pool_shutdown();
    atomic_store(&P.stop, 0);
    atomic_store(&P.generation, 0);
    for (int i = 1; i < n_threads; i++) {
        if (pthread_create(&P.th[i], NULL, worker_main, (void *)(intptr_t)i) != 0) {
            P.n = i;                      // keep the ones that started, then stop them
            gb_pool_shutdown();
            return gb_set_error(GB_ERR_NOMEM, "could not start worker thread %d of %d", i, n_threads);
        }
    }
    P.n = n_threads;
    return GB_OK;
}

int gb_pool_threads(void) { return P.n; }

void gb_parallel_for(gb_task_fn fn, void *ctx) {
    if (P.n == 1 || in_parallel) { fn(ctx, 0, 1); return; }
    P.fn = fn;
    P.ctx = ctx;
    atomic_store(&P.pending, P.n - 1);
    wake_workers();
    in_parallel = 1;
    BUSY_START();
    fn(ctx, 0, P.n);
    BUSY_END(0);
    in_parallel = 0;
    for (int i = 0; i < SPIN_ITERS; i++) {
        if (atomic_load_explicit(&P.pending, memory_order_acquire) == 0) return;
        cpu_relax();
    }
    pthread_mutex_lock(&P.mu);
    atomic_store(&P.caller_sleeping, 1);
    while (atomic_load(&P.pending) != 0) pthread_cond_wait(&P.done_cv, &P.mu);
    atomic_store(&P.caller_sleeping, 0);
    pthread_mutex_unlock(&P.mu);
}

void gb_pool_shutdown(void) {
    if (P.n <= 1) return;
    atomic_store(&P.stop, 1);
    wake_workers();
    for (int i = 1; i < P.n; i++) pthread_join(P.th[i], NULL);
    P.n = 1;
}

__attribute__((unused)) static int nested(void) { return in_parallel; }   // inside a parallel_for's task

int gb_pool_serial_begin(void) {
    int prev = in_parallel;
    in_parallel = 1;   // as inside a task: nested parallel_fors run inline
    return prev;
}

void gb_pool_serial_end(int prev) { in_parallel = prev; }

#else  // no threads in this build: everything inline

gb_status gb_pool_init(int n_threads) { (void)n_threads; return GB_OK; }
int gb_pool_threads(void) { return 1; }
void gb_parallel_for(gb_task_fn fn, void *ctx) { fn(ctx, 0, 1); }
void gb_pool_shutdown(void) {}
int gb_pool_serial_begin(void) { return 0; }
void gb_pool_serial_end(int prev) { (void)prev; }
__attribute__((unused)) static int nested(void) { return 0; }

#endif

// --- elementwise ranges (both builds) -----------------------------------------

typedef struct range_job { size_t n; gb_range_fn fn; void *ctx; gb_take_counter taken; } range_job;

// Guided chunks from a shared counter (gb_pool_take), counted in blocks of
// 16 floats, so that every chunk starts on a multiple of 16 and each chunk's
// vector loop stays whole; at least GB_RANGE_MIN_CHUNK floats but the last.
static void range_task(void *ctx, int ith, int nth) {
    range_job *j = ctx;
    const int blocks = (int)((j->n + 15) / 16);
    int b0, b1;
    while (gb_pool_take_min(&j->taken, blocks, ith, nth, GB_RANGE_MIN_CHUNK / 16, &b0, &b1)) {
        const size_t lo = (size_t)b0 * 16, hi = (size_t)b1 * 16;
        j->fn(j->ctx, lo, hi < j->n ? hi : j->n);
    }
}

void gb_parallel_range(size_t n, gb_range_fn fn, void *ctx) {
    if (n == 0) return;
    if (n < GB_RANGE_GRAIN || gb_pool_threads() == 1) { fn(ctx, 0, n); return; }
    GB_ASSERT(n / 16 < (size_t)1 << 30, "gb_parallel_range: %zu elements", n);
    range_job j = { n, fn, ctx, 0 };
    gb_parallel_for(range_task, &j);
}

// --- pass by pass timing (GB_PROFILE_PASSES builds only) --------------------

#ifdef GB_PROFILE_PASSES
#include <stdio.h>
#include <string.h>

#define MAX_PASSES 192   // the passes, ResNet-18's ~70 modules (bench/layers.mjs) and a step's ops
#define MAX_NAME 48
static struct { char name[MAX_NAME]; long calls; double ms, busy[GB_POOL_MAX_THREADS]; } passes[MAX_PASSES];
static int n_passes;
static int current = -1;              // the pass running (set before the workers wake)
static _Thread_local int in_pass;     // inside a timed pass: nested ones are part of it
static long dispatched;               // parallel_fors handed to the workers (pass_busy counts them)


#ifdef GB_THREADS
static void pass_busy(int ith, double ms) {
    if (ith == 0) dispatched++;   // the caller's part of a parallel_for the workers share
    if (current >= 0 && ith < GB_POOL_MAX_THREADS) passes[current].busy[ith] += ms;
}
#endif

// The pass named `name` (a copy: callers may name passes at run time).
static int pass_index(const char *name) {
    for (int i = 0; i < n_passes; i++)
        if (!strncmp(passes[i].name, name, MAX_NAME - 1)) return i;
    if (n_passes == MAX_PASSES) return -1;
    snprintf(passes[n_passes].name, MAX_NAME, "%s", name);
    return n_passes++;
}

int gb_pool_passes_outermost(void) { return !in_pass && !nested(); }

// On the caller's thread, outermost calls only: a nested call (in a task,
// on any thread) is part of the pass that runs it. A call that handed no
// work to the workers ran inline (one thread, a small range): all its time
// was the caller's busy time.
#define TIMED(name, call)                                                  \
    do {                                                                   \
        if (in_pass || nested()) { call; break; }                          \
        const int idx = pass_index(name);                                  \
        const long dispatched_before = dispatched;                         \
        in_pass = 1;                                                       \
        current = idx;                                                     \
        const double t0 = gb_now_ms();                                        \
        call;                                                              \
        const double ms = gb_now_ms() - t0;                                   \
        if (idx >= 0) {                                                    \
            passes[idx].calls++;                                           \
            passes[idx].ms += ms;                                          \
            if (dispatched == dispatched_before) passes[idx].busy[0] += ms; \
        }                                                                  \
        current = -1;                                                      \
        in_pass = 0;                                                       \
    } while (0)

void gb_parallel_for_named(gb_task_fn fn, void *ctx, const char *name) {
    TIMED(name, gb_parallel_for(fn, ctx));
}

void gb_parallel_range_named(size_t n, gb_range_fn fn, void *ctx, const char *name) {
    TIMED(name, gb_parallel_range(n, fn, ctx));
}

void gb_pool_passes_add(const char *name, double ms) {
    const int idx = pass_index(name);
    if (idx < 0) return;
    passes[idx].calls++;
    passes[idx].ms += ms;
}

void gb_pool_passes_reset(void) {
    memset(passes, 0, sizeof passes);
    n_passes = 0;
}

const char *gb_pool_passes_json(void) {
    static char buf[MAX_PASSES * (64 + 24 * (GB_POOL_MAX_THREADS + 3))];
    size_t len = 0;
    len += (size_t)snprintf(buf + len, sizeof buf - len, "[");
    for (int i = 0; i < n_passes && len < sizeof buf; i++) {
        len += (size_t)snprintf(buf + len, sizeof buf - len, "%s{\"pass\": \"%s\", \"calls\": %ld, \"ms\": %.4f, \"busy_ms\": [",
                                i ? ", " : "", passes[i].name, passes[i].calls, passes[i].ms);
        for (int t = 0; t < gb_pool_threads() && len < sizeof buf; t++)
            len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%.4f", t ? ", " : "", passes[i].busy[t]);
        if (len < sizeof buf) len += (size_t)snprintf(buf + len, sizeof buf - len, "]}");
    }
    if (len < sizeof buf) snprintf(buf + len, sizeof buf - len, "]");
    return buf;
}
#endif
