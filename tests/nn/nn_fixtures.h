// nn_fixtures.h: reading the PyTorch fixtures of tests/fixtures/nn (written
// by gen_nn_fixtures.py) in the native tests. Tests run from the repo root.
#ifndef NN_FIXTURES_H
#define NN_FIXTURES_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// The whole file, NUL-terminated, malloc'd; aborts if it is missing.
static inline char *nn_read_fixture(const char *name) {
    char path[256];
    snprintf(path, sizeof path, "tests/fixtures/nn/%s", name);
    FILE *f = fopen(path, "rb");
    if (!f) { fprintf(stderr, "missing fixture %s (run from the repo root)\n", path); exit(2); }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) exit(2);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

// The line starting with `prefix` (a pointer into text), or NULL.
static inline const char *nn_find_line(const char *text, const char *prefix) {
    size_t n = strlen(prefix);
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        if (strncmp(p, prefix, n) == 0) return p;
    return NULL;
}

// Reads up to `cap` hex float32 bit patterns from *p (skipping spaces, stops
// at '|' or the end of the line); advances *p. Returns how many.
static inline int nn_read_bits(const char **p, float *out, int cap) {
    int n = 0;
    const char *s = *p;
    for (;;) {
        while (*s == ' ') s++;
        if (*s == '|') { s++; break; }
        if (*s == '\n' || *s == '\0') break;
        char *end;
        uint32_t u = (uint32_t)strtoul(s, &end, 16);
        if (end == s) break;
        if (n < cap) memcpy(&out[n], &u, 4);
        n++;
        s = end;
    }
    *p = s;
    return n;
}

// Distance in units in the last place between two finite floats.
static inline int64_t nn_ulps(float a, float b) {
    int32_t ia, ib;
    memcpy(&ia, &a, 4);
    memcpy(&ib, &b, 4);
    int64_t la = ia < 0 ? (int64_t)INT32_MIN - ia : ia, lb = ib < 0 ? (int64_t)INT32_MIN - ib : ib;
    return la > lb ? la - lb : lb - la;
}

// The first line where two texts differ, for a readable failure.
static inline void nn_show_diff(const char *want, const char *got) {
    int line = 1;
    const char *w = want, *g = got;
    while (*w && *w == *g) { if (*w == '\n') line++; w++; g++; }
    fprintf(stderr, "  first difference at line %d:\n  want: %.80s\n  got:  %.80s\n", line, w, g);
}

#endif
