// io_test_util.h: the little the weights tests share: file loading, checks
// that count failures, and the fixture directory.
#ifndef IO_TEST_UTIL_H
#define IO_TEST_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gb_state_dict.h"

#ifndef GB_IO_FIXTURE_DIR
#define GB_IO_FIXTURE_DIR "tests/fixtures/io"
#endif

static int failures;

#define CHECK(cond, ...)                                                   \
    do {                                                                   \
        if (!(cond)) {                                                     \
            failures++;                                                    \
            fprintf(stderr, "%s:%d: FAIL %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, " " __VA_ARGS__);                              \
            fprintf(stderr, "\n");                                         \
        }                                                                  \
    } while (0)

// Reads a whole file into an exactly-sized buffer (so ASan sees overreads).
static inline uint8_t *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) { fprintf(stderr, "cannot open %s\n", path); exit(2); }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    uint8_t *buf = malloc(n ? (size_t)n : 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) { fprintf(stderr, "cannot read %s\n", path); exit(2); }
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static inline uint8_t *read_fixture(const char *name, size_t *len) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", GB_IO_FIXTURE_DIR, name);
    return read_file(path, len);
}

static inline int write_file(const char *path, const uint8_t *buf, size_t len) {
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    int ok = fwrite(buf, 1, len, f) == len;
    return fclose(f) == 0 && ok;
}

static inline int contains(const char *haystack, const char *needle) { return strstr(haystack, needle) != NULL; }

static inline int finish(const char *name) {
    if (failures) fprintf(stderr, "%s: %d check(s) failed\n", name, failures);
    else printf("%s: ok\n", name);
    return failures ? 1 : 0;
}

#endif
