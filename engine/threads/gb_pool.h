// gb_pool.h: one persistent thread pool and an (ith, nth) parallel-for.
//
// The pool is created once (gb_pool_init) and lives until gb_pool_shutdown;
// ops never create threads. gb_parallel_for(fn, ctx) calls fn(ctx, ith, nth)
// once for every ith in [0, nth): the calling thread runs ith = 0 and the
// workers run the rest; it returns when all have finished.
//
// Determinism contract (DESIGN.md, "Threads"): a kernel must split its
// *outputs* (over ith with gb_pool_share, or in chunks with gb_pool_take) so
// that each output element is written by exactly one part, and must sum in
// an order that does not depend on nth or on which thread runs a part. Then
// results are bit-identical for 1, 2 or N threads.
//
// Built without threads (no -pthread, GB_THREADS undefined) everything runs
// inline with nth = 1. A parallel_for issued from inside another one also
// runs inline with nth = 1 (no nesting, no deadlock).
#ifndef GB_POOL_H
#define GB_POOL_H

#include "../core/gb_status.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#if !defined(GB_THREADS) && (defined(__EMSCRIPTEN_PTHREADS__) || (!defined(__EMSCRIPTEN__) && defined(_REENTRANT)))
#define GB_THREADS 1
#endif

#define GB_POOL_MAX_THREADS 16

typedef void (*gb_task_fn)(void *ctx, int ith, int nth);

// Starts n_threads - 1 workers (the caller is the n-th). Idempotent: a second
// call with a different count shuts the old pool down first. n_threads <= 1,
// or a build without threads, means "no workers".
// Milliseconds on a monotonic clock (performance.now() in the browser):
// the passes' and the training steps' timings.
double gb_now_ms(void);

gb_status gb_pool_init(int n_threads);
// Threads taking part in a parallel_for (>= 1), the caller included.
int gb_pool_threads(void);
void gb_parallel_for(gb_task_fn fn, void *ctx);
void gb_pool_shutdown(void);
// Until gb_pool_serial_end(prev), every parallel_for the calling thread
// issues runs inline (nth = 1): for work too small to pay for waking the
// workers (a head step on cached features takes ~0.1 ms, and waking a worker
// on a busy machine can take ms). The same bits (the determinism contract).
int gb_pool_serial_begin(void);   // returns prev
void gb_pool_serial_end(int prev);

// Elementwise loops: fn(ctx, lo, hi) over [0, n) cut into contiguous chunks
// the threads take in turn, or inline in one call when n is below GB_RANGE_GRAIN (waking
// the pool costs more than it saves there). Each element is computed alone,
// so results do not depend on the split. Every chunk starts on a multiple of
// 16 (ops/relu.c's gate: one 16-bit word per 16 elements, never shared).
#define GB_RANGE_GRAIN (1 << 15)
#define GB_RANGE_MIN_CHUNK 2048
typedef void (*gb_range_fn)(void *ctx, size_t lo, size_t hi);
void gb_parallel_range(size_t n, gb_range_fn fn, void *ctx);

// Part ith of nth of [0, n): [*lo, *hi), contiguous, sizes differing by at
// most one, every index in exactly one part (the usual way a task splits).
static inline void gb_pool_share(int n, int ith, int nth, int *lo, int *hi) {
    *lo = (int)((long long)n * ith / nth);
    *hi = (int)((long long)n * (ith + 1) / nth);
}

// The dynamic alternative, for parts of unequal cost (border tiles, or a
// core the OS or the browser slows down): [0, n) in chunks taken in turn
// from a shared counter (zero before the parallel_for) until none is left:
//     int lo, hi;
//     while (gb_pool_take(&job->taken, n, ith, nth, &lo, &hi)) ...;
// Guided: each take is 1/(2 nth) of what is left (at least `min` items, or
// the rest), so the first chunks are large (few takes) and the last ones
// small: when one thread runs out of work, the other is at most a small
// chunk from the end. (Fixed chunks of n / (4 nth) left one thread idle for
// half a chunk on average: 1/16 of every parallel_for with 2 threads.)
// Two-ended: the last thread takes from the back of [0, n), the others
// from the front, and they meet where the work runs out. So with 2 threads
// the caller makes the first part of every output and the worker the last,
// pass after pass (the top and the bottom of the images, the first and the
// last channels), and a pass mostly reads what the same core wrote in the
// pass before, from its own cache. (Taken in turn, a chunk went to either
// core, and half of what a pass read came from the other core's cache.
// Two ends measured 2.5-3% faster for a 2-thread forward or training step
// on this machine, whose cores pass one cache line in ~250 ns, though bulk
// reads from the other core run at full speed; bench/README.md.)
// Which thread takes a chunk does not change what the chunk computes, so
// with the same contract as above results stay bit-identical.
typedef _Atomic uint64_t gb_take_counter;   // items taken: from the front (low 32 bits), from the back (high)

static inline int gb_pool_take_min(gb_take_counter *taken, int n, int ith, int nth, int min, int *lo, int *hi) {
    const int from_back = nth > 1 && ith == nth - 1;
    uint64_t t = atomic_load_explicit(taken, memory_order_relaxed);
    for (;;) {
        const int front = (int)(uint32_t)t, back = (int)(t >> 32), left = n - front - back;
        if (left <= 0) return 0;
        int chunk = nth == 1 ? left : left / (2 * nth);
        if (chunk < min) chunk = min;
        if (chunk > left) chunk = left;
        const uint64_t next = from_back ? t + ((uint64_t)chunk << 32) : t + (uint64_t)chunk;
        if (atomic_compare_exchange_weak_explicit(taken, &t, next, memory_order_relaxed, memory_order_relaxed)) {
            *lo = from_back ? n - back - chunk : front;
            *hi = *lo + chunk;
            return 1;
        }
    }
}
static inline int gb_pool_take(gb_take_counter *taken, int n, int ith, int nth, int *lo, int *hi) {
    return gb_pool_take_min(taken, n, ith, nth, 1, lo, hi);
}

// Pass by pass timing, in a build made for it (cmake -DGB_PROFILE_PASSES=ON;
// bench/passes.mjs), never the shipped one: every outermost parallel_for
// (and elementwise range) is timed under its task's name, with each
// thread's busy time inside it. The JSON: [{"pass", "calls", "ms",
// "busy_ms": [per thread]}], totals since the last reset. A name is copied
// (up to 47 characters), so a caller may make one at run time; it asks
// gb_pool_passes_outermost() first, since a nested call is not timed and
// its name never read.
#ifdef GB_PROFILE_PASSES
int gb_pool_passes_outermost(void);
void gb_parallel_for_named(gb_task_fn fn, void *ctx, const char *name);
void gb_parallel_range_named(size_t n, gb_range_fn fn, void *ctx, const char *name);
void gb_pool_passes_reset(void);
const char *gb_pool_passes_json(void);
// Adds ms of wall time to the row `name`, a row of its own beside the passes
// that ran inside it: a module's forward (bench/layers.mjs), a step's op or
// backward node (graph.c, bench/train-passes.mjs).
void gb_pool_passes_add(const char *name, double ms);
#ifndef GB_POOL_IMPL
#define gb_parallel_for(fn, ctx) gb_parallel_for_named(fn, ctx, #fn)
#define gb_parallel_range(n, fn, ctx) gb_parallel_range_named(n, fn, ctx, #fn)
#endif
#endif

#endif
