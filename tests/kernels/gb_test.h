// gb_test.h: the few helpers the kernel tests share (header-only).
#ifndef GB_TEST_H
#define GB_TEST_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int gb_test_failures;

#define CHECK(cond, ...)                                                     \
    do {                                                                     \
        if (!(cond)) {                                                       \
            if (gb_test_failures++ < 20) {                                   \
                fprintf(stderr, "%s:%d: FAIL %s: ", __FILE__, __LINE__, #cond); \
                fprintf(stderr, __VA_ARGS__);                                \
                fprintf(stderr, "\n");                                       \
            }                                                                \
        }                                                                    \
    } while (0)

static uint64_t gb_test_rng = 0x9E3779B97F4A7C15ull;
// Uniform in [-1, 1): xorshift, the same stream on every platform.
__attribute__((unused)) static float rnd(void) {
    gb_test_rng ^= gb_test_rng << 13;
    gb_test_rng ^= gb_test_rng >> 7;
    gb_test_rng ^= gb_test_rng << 17;
    return (float)((double)(gb_test_rng >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}
__attribute__((unused)) static void fill(float *p, size_t n) { for (size_t i = 0; i < n; i++) p[i] = rnd(); }
__attribute__((unused)) static float *alloc_f(size_t n) {
    float *p = aligned_alloc(64, ((n * sizeof(float) + 63) / 64 + 1) * 64);
    memset(p, 0, n * sizeof(float));
    return p;
}

static int test_summary(const char *name) {
    if (gb_test_failures) { fprintf(stderr, "%s: %d failure(s)\n", name, gb_test_failures); return 1; }
    printf("%s: all passed\n", name);
    return 0;
}

#endif
