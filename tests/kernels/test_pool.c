// test_pool.c: the thread pool's contract. Every ith in [0, nth) runs exactly
// once per call; the call returns only after all have finished; nested calls
// run inline; re-init with another count works; and the sleep path (workers
// and caller parked on condition variables after the spin budget) never
// loses a wake-up: calls separated by pauses longer than the spin must all
// complete (a lost wake-up hangs, which `timeout` turns into a failure).
#define _POSIX_C_SOURCE 200112L
#include "gb_test.h"
#include "../../engine/threads/gb_pool.h"

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
// starting on a multiple of 16 (vector loops stay whole).
typedef struct range_ctx { atomic_int *hits; size_t n; atomic_int bad, calls; } range_ctx;
static void mark(void *ctx, size_t lo, size_t hi) {
    range_ctx *r = ctx;
    atomic_fetch_add(&r->calls, 1);
    if (lo >= hi || hi > r->n || lo % 16) atomic_fetch_add(&r->bad, 1);
    for (size_t i = lo; i < hi && i < r->n; i++) atomic_fetch_add(&r->hits[i], 1);
}

static void test_range(void) {
    static const size_t sizes[] = { 0, 1, 17, GB_RANGE_GRAIN - 1, GB_RANGE_GRAIN, GB_RANGE_GRAIN + 5, 100003 };
    for (int n = 1; n <= 3; n++) {
        gb_pool_init(n);
        for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
            range_ctx r = { calloc(sizes[k] + 1, sizeof(atomic_int)), sizes[k], 0, 0 };
            gb_parallel_range(sizes[k], mark, &r);
            int once = 1;
            for (size_t i = 0; i < sizes[k]; i++) once &= atomic_load(&r.hits[i]) == 1;
            CHECK(once, "threads %d, n %zu: an index not covered exactly once", n, sizes[k]);
            CHECK(!atomic_load(&r.bad), "threads %d, n %zu: empty or out-of-range part", n, sizes[k]);
            // nothing to do: no call; small ranges: one inline call; else chunks of about
            // n / (4 threads), rounded up to 16 floats
            const size_t chunk = (sizes[k] / (4 * (size_t)gb_pool_threads()) + 15) & ~(size_t)15;
            const int want = sizes[k] == 0 ? 0
                           : sizes[k] >= GB_RANGE_GRAIN && gb_pool_threads() > 1 ? (int)((sizes[k] + chunk - 1) / chunk)
                                                                                 : 1;
            CHECK(atomic_load(&r.calls) == want, "threads %d, n %zu: %d calls, want %d",
                  n, sizes[k], atomic_load(&r.calls), want);
            free(r.hits);
        }
    }
}

int main(void) {
    test_range();
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
