// gb_test.h: a dozen lines of test harness for the native ctest suites.
#ifndef GB_TEST_H
#define GB_TEST_H

#include <math.h>
#include <stdio.h>
#include <string.h>

static int gb_test_failures;

#define CHECK(cond, ...)                                                     \
    do {                                                                     \
        if (!(cond)) {                                                       \
            gb_test_failures++;                                              \
            fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, " " __VA_ARGS__);                                \
            fprintf(stderr, "\n");                                           \
        }                                                                    \
    } while (0)

#define CHECK_NEAR(a, b, tol) \
    CHECK(fabs((double)(a) - (double)(b)) <= (tol), "%.9g vs %.9g (tol %g)", (double)(a), (double)(b), (double)(tol))

static inline int gb_test_done(const char *suite) {
    if (gb_test_failures) fprintf(stderr, "%s: %d check(s) failed\n", suite, gb_test_failures);
    else printf("%s: all checks passed\n", suite);
    return gb_test_failures ? 1 : 0;
}

#endif
