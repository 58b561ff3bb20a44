// test_pool.c: the thread pool's contract. Every ith in [0, nth) runs exactly
// once per call; the call returns only after all have finished; nested calls
// run inline; re-init with another count works; and the sleep path (workers
// and caller parked on condition variables after the spin budget) never
// loses a wake-up: calls separated by pauses longer than the spin must all
// complete (a lost wake-up hangs, which `timeout` turns into a failure).
#define _POSIX_C_SOURCE 200112L
#include "gb_test.h"
#include "../../engine/threads/gb_pool.h"
#include "../../engine/kernels/gemm.h"

#include <stdatomic.h>
#include <time.h>

typedef struct count_ctx {
    atomic_int calls[GB_POOL_MAX_THREADS];
    atomic_int nested_ok, seen_nth;
    int slow;               // ith 1 lingers, so the caller waits on the done path
} count_ctx;

static void inner(void *ctx, int ith, int nth) {
    count_ctx *c = ctx;
    if (ith == 0 && nth == 1) atomic_fetch_add(&c->nested_ok, 1);
}

static void task(void *ctx, int ith, int nth) {
    count_ctx *c = ctx;
    atomic_fetch_add(&c->calls[ith], 1);
    atomic_store(&c->seen_nth, nth);
    gb_parallel_for(inner, ctx);                     // nested: must run inline, nth = 1
    if (c->slow && ith == 1) {
        struct timespec t = { 0, 2 * 1000 * 1000 };  // 2 ms > the caller's spin budget
        nanosleep(&t, NULL);
    }
}

// gb_parallel_range: every index in exactly one call, parts in bounds and
// starting on a multiple of 16 (vector loops stay whole), at most one part
// (the last taken, where the two ends meet) below GB_RANGE_MIN_CHUNK besides
// the one that ends at n.
typedef struct range_ctx { atomic_int *hits; size_t n; atomic_int bad, calls, small; } range_ctx;
static void mark(void *ctx, size_t lo, size_t hi) {
    range_ctx *r = ctx;
    atomic_fetch_add(&r->calls, 1);
    if (lo >= hi || hi > r->n || lo % 16) atomic_fetch_add(&r->bad, 1);
    if (hi < r->n && hi - lo < GB_RANGE_MIN_CHUNK) atomic_fetch_add(&r->small, 1);
    for (size_t i = lo; i < hi && i < r->n; i++) atomic_fetch_add(&r->hits[i], 1);
}

static void test_range(void) {
    static const size_t sizes[] = { 0, 1, 17, GB_RANGE_GRAIN - 1, GB_RANGE_GRAIN, GB_RANGE_GRAIN + 5, 100003 };
    for (int n = 1; n <= 3; n++) {
        gb_pool_init(n);
        for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
            range_ctx r = { calloc(sizes[k] + 1, sizeof(atomic_int)), sizes[k], 0, 0, 0 };
            gb_parallel_range(sizes[k], mark, &r);
            int once = 1;
            for (size_t i = 0; i < sizes[k]; i++) once &= atomic_load(&r.hits[i]) == 1;
            CHECK(once, "threads %d, n %zu: an index not covered exactly once", n, sizes[k]);
            CHECK(!atomic_load(&r.bad), "threads %d, n %zu: empty or out-of-range part", n, sizes[k]);
            // nothing to do: no call; small ranges (or one thread): one inline call; else
            // guided chunks of at least GB_RANGE_MIN_CHUNK floats (mark() checks the rest)
            const int calls = atomic_load(&r.calls), threaded = sizes[k] >= GB_RANGE_GRAIN && gb_pool_threads() > 1;
            if (!threaded) CHECK(calls == (sizes[k] > 0), "threads %d, n %zu: %d calls", n, sizes[k], calls);
            else CHECK(calls >= 2 && (size_t)calls <= sizes[k] / GB_RANGE_MIN_CHUNK + 1,
                       "threads %d, n %zu: %d calls", n, sizes[k], calls);
            CHECK(atomic_load(&r.small) <= 1, "threads %d, n %zu: %d parts below GB_RANGE_MIN_CHUNK before the end", n,
                  sizes[k], atomic_load(&r.small));
            free(r.hits);
        }
    }
}

// gb_pool_take: every index of [0, n) in exactly one chunk, chunks non-empty
// and in bounds, none larger than n / (2 nth) (guided), at most one (the
// last taken) below `min`; each thread's chunk sizes, in order, must not grow
// (left / (2 nth) only shrinks, except up to `min`). Two-ended: the last
// thread's chunks all lie above every other thread's, and each side's come
// in order (the front's rising, the back's falling).
static void store_min(atomic_int *a, int v) {
    int cur = atomic_load(a);
    while (v < cur && !atomic_compare_exchange_weak(a, &cur, v)) {}
}
static void store_max(atomic_int *a, int v) {
    int cur = atomic_load(a);
    while (v > cur && !atomic_compare_exchange_weak(a, &cur, v)) {}
}
typedef struct take_ctx {
    gb_take_counter taken;
    atomic_int *hits, bad, takes, short_chunks, front_hi, back_lo;
    int n, min;
} take_ctx;
static void take_task(void *ctx, int ith, int nth) {
    take_ctx *t = ctx;
    const int back = nth > 1 && ith == nth - 1;
    int lo, hi, last = t->n + 1, prev_lo = -1, prev_hi = t->n + 1;
    while (gb_pool_take_min(&t->taken, t->n, ith, nth, t->min, &lo, &hi)) {
        atomic_fetch_add(&t->takes, 1);
        const int size = hi - lo;
        const int guided = t->n / (2 * nth) > t->min ? t->n / (2 * nth) : t->min;
        if (lo < 0 || hi > t->n || size < 1 || size > last || (nth > 1 && size > guided)) atomic_fetch_add(&t->bad, 1);
        if (size < t->min) atomic_fetch_add(&t->short_chunks, 1);   // only the very last may be
        if (back ? hi > prev_lo && prev_lo >= 0 : lo < prev_hi && prev_hi <= t->n) atomic_fetch_add(&t->bad, 1);
        if (back) {
            prev_lo = lo;
            store_min(&t->back_lo, lo);
        } else {
            prev_hi = hi;
            store_max(&t->front_hi, hi);
        }
        last = size > t->min ? size : t->min;
        for (int i = lo; i < hi; i++) atomic_fetch_add(&t->hits[i], 1);
    }
}

static void test_take(void) {
    static const int sizes[][2] = { { 1, 1 }, { 7, 1 }, { 100, 1 }, { 1000, 1 }, { 100003, 1 }, { 1000, 16 }, { 5, 16 } };
    for (int n = 1; n <= 3; n++) {
        gb_pool_init(n);
        for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++)
            for (int round = 0; round < 20; round++) {
                take_ctx t = { .hits = calloc((size_t)sizes[k][0], sizeof(atomic_int)), .n = sizes[k][0],
                               .min = sizes[k][1], .back_lo = sizes[k][0] };
                gb_parallel_for(take_task, &t);
                CHECK(atomic_load(&t.front_hi) <= atomic_load(&t.back_lo),
                      "threads %d, n %d: a front chunk ends at %d, above the back's start %d", n, t.n,
                      atomic_load(&t.front_hi), atomic_load(&t.back_lo));
                int once = 1;
                for (int i = 0; i < t.n; i++) once &= atomic_load(&t.hits[i]) == 1;
                CHECK(once, "threads %d, n %d: an index not taken exactly once", n, t.n);
                CHECK(!atomic_load(&t.bad), "threads %d, n %d, min %d: a bad chunk", n, t.n, t.min);
                CHECK(atomic_load(&t.short_chunks) <= 1, "threads %d, n %d, min %d: %d chunks below min", n, t.n,
                      t.min, atomic_load(&t.short_chunks));
                CHECK(n > 1 || atomic_load(&t.takes) == 1, "one thread: one take of everything");
                free(t.hits);
            }
    }
}

#ifdef GB_PROFILE_PASSES
// Pass by pass timing (gb_pool.h): an outermost pass counted once per call
// under its task's name with both threads' busy time; what it runs nested
// (a parallel_for inside the task) is part of it, not a pass of its own; a
// range under GB_RANGE_GRAIN runs inline, its time the caller's.
static void spin_task(void *ctx, int ith, int nth) {
    task(ctx, ith, nth);   // counts, and runs `inner` nested
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do clock_gettime(CLOCK_MONOTONIC, &t);   // 2 ms on each thread
    while ((t.tv_sec - t0.tv_sec) * 1e3 + (t.tv_nsec - t0.tv_nsec) / 1e6 < 2.0);
}
static void nothing(void *ctx, size_t lo, size_t hi) { (void)ctx; (void)lo; (void)hi; }

static double json_number(const char *json, const char *pass, const char *key, int index) {
    char pat[96];
    snprintf(pat, sizeof pat, "\"pass\": \"%s\"", pass);
    const char *p = strstr(json, pat);
    if (!p) return -1;
    p = strstr(p, key);
    if (!p) return -1;
    p += strlen(key);
    while (*p == '"' || *p == ':' || *p == ' ' || *p == '[') p++;
    for (int i = 0; i < index; i++) p = strchr(p, ',') + 1;
    return strtod(p, NULL);
}

static void test_passes(void) {
    gb_pool_init(2);
    gb_pool_passes_reset();
    count_ctx c;
    memset(&c, 0, sizeof c);
    for (int i = 0; i < 3; i++) gb_parallel_for(spin_task, &c);
    gb_parallel_range(100, nothing, NULL);
    const char *json = gb_pool_passes_json();
    CHECK(json_number(json, "spin_task", "calls", 0) == 3, "spin_task calls: %s", json);
    CHECK(json_number(json, "spin_task", "ms", 0) >= 6, "spin_task ms: %s", json);
    CHECK(json_number(json, "spin_task", "busy_ms", 0) >= 6 && json_number(json, "spin_task", "busy_ms", 1) >= 6,
          "spin_task busy: %s", json);
    CHECK(!strstr(json, "\"inner\""), "a nested parallel_for counted as a pass: %s", json);
    CHECK(json_number(json, "nothing", "calls", 0) == 1, "the inline range: %s", json);
    gb_pool_passes_reset();
    CHECK(!strcmp(gb_pool_passes_json(), "[]"), "reset: %s", gb_pool_passes_json());
    gb_pool_init(1);   // inline on the caller: all of the pass's time is its busy time
    gb_parallel_for(spin_task, &c);
    json = gb_pool_passes_json();
    CHECK(json_number(json, "spin_task", "busy_ms", 0) >= 2 &&
          json_number(json, "spin_task", "busy_ms", 0) == json_number(json, "spin_task", "ms", 0),
          "one thread, spin_task busy: %s", json);
    // GEMMs are timed by shape (gemm.c), and a GEMM nested in a task is part of that task
    gb_pool_init(2);
    gb_pool_passes_reset();
    static float a[6 * 4], b[4 * 9], bp[64 * 2], cm[6 * 9];
    gb_f32_pack_b(4, 9, b, 9, bp);
    gb_f32_gemm_packed(6, 9, 4, a, 4, bp, cm, 9, NULL, 0);
    gb_f32_gemm_packed(6, 9, 4, a, 4, bp, cm, 9, NULL, 0);
    json = gb_pool_passes_json();
    CHECK(json_number(json, "gemm 6x9x4 b1", "calls", 0) == 2, "a GEMM by shape: %s", json);
    CHECK(!strstr(json, "gemm_task"), "a GEMM under its task's name: %s", json);
    // A module's wall time (engine/nn/forward.c, bench/layers.mjs): a row of its own, summed per name
    gb_pool_passes_add("module layer1.0.conv1", 1.5);
    gb_pool_passes_add("module layer1.0.conv1", 2.0);
    json = gb_pool_passes_json();
    CHECK(json_number(json, "module layer1.0.conv1", "calls", 0) == 2 &&
          json_number(json, "module layer1.0.conv1", "ms", 0) == 3.5, "a module's row: %s", json);
}
#endif

int main(void) {
    test_range();
    test_take();
#ifdef GB_PROFILE_PASSES
    test_passes();
#endif
    for (int n = 1; n <= 4; n++) {
        CHECK(gb_pool_init(n) == GB_OK, "init %d", n);
        CHECK(gb_pool_init(n) == GB_OK, "init %d again (idempotent)", n);
        const int nth = gb_pool_threads();
        for (int round = 0; round < 3; round++) {
            count_ctx c;
            memset(&c, 0, sizeof c);
            c.slow = round == 2;
            const int iters = round == 0 ? 2000 : 20;
            for (int i = 0; i < iters; i++) {
                gb_parallel_for(task, &c);
                if (round == 1) {                    // let everyone fall asleep
                    struct timespec t = { 0, 3 * 1000 * 1000 };
                    nanosleep(&t, NULL);
                }
            }
            for (int i = 0; i < nth; i++)
                CHECK(atomic_load(&c.calls[i]) == iters, "n=%d round %d: ith %d ran %d times, want %d",
                      n, round, i, atomic_load(&c.calls[i]), iters);
            CHECK(atomic_load(&c.seen_nth) == nth, "nth %d vs %d", atomic_load(&c.seen_nth), nth);
            CHECK(atomic_load(&c.nested_ok) == iters * nth, "nested calls not inline");
        }
    }
    printf("pool threads at the end: %d\n", gb_pool_threads());
    gb_pool_shutdown();
    CHECK(gb_pool_threads() == 1, "shutdown leaves 1");
    return test_summary("test_pool");
}
