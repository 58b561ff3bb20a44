// sb.c: see gb_sb.h.
#include "gb_sb.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void gb_sb_init(struct gb_sb *sb) { memset(sb, 0, sizeof *sb); }

void gb_sb_free(struct gb_sb *sb) { free(sb->buf); gb_sb_init(sb); }

void gb_sb_clear(struct gb_sb *sb) {
    sb->len = 0;
    sb->failed = 0;
    if (sb->buf) sb->buf[0] = '\0';
}

static int reserve(struct gb_sb *sb, size_t extra) {
    if (sb->failed) return 0;
    if (sb->len + extra + 1 <= sb->cap) return 1;
    size_t cap = sb->cap ? sb->cap : 256;
    while (cap < sb->len + extra + 1) cap *= 2;
    char *buf = realloc(sb->buf, cap);
    if (!buf) { sb->failed = 1; return 0; }
    sb->buf = buf;
    sb->cap = cap;
    return 1;
}

void gb_sb_puts(struct gb_sb *sb, const char *s) {
    size_t n = strlen(s);
    if (!reserve(sb, n)) return;
    memcpy(sb->buf + sb->len, s, n + 1);
    sb->len += n;
}

void gb_sb_putc(struct gb_sb *sb, char c) {
    if (!reserve(sb, 1)) return;
    sb->buf[sb->len++] = c;
    sb->buf[sb->len] = '\0';
}

void gb_sb_printf(struct gb_sb *sb, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !reserve(sb, (size_t)n)) return;
    va_start(ap, fmt);
    vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    sb->len += (size_t)n;
}

void gb_sb_json_string(struct gb_sb *sb, const char *s) {
    gb_sb_putc(sb, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': gb_sb_puts(sb, "\\\""); break;
        case '\\': gb_sb_puts(sb, "\\\\"); break;
        case '\n': gb_sb_puts(sb, "\\n"); break;
        case '\t': gb_sb_puts(sb, "\\t"); break;
        case '\r': gb_sb_puts(sb, "\\r"); break;
        default:
            if (*p < 0x20) gb_sb_printf(sb, "\\u%04x", *p);
            else gb_sb_putc(sb, (char)*p);
        }
    }
    gb_sb_putc(sb, '"');
}

void gb_sb_json_number(struct gb_sb *sb, double v) {
    if (!isfinite(v)) { gb_sb_puts(sb, "null"); return; }
    // %.9g round-trips every float32 exactly.
    char buf[32];
    snprintf(buf, sizeof buf, "%.9g", v);
    gb_sb_puts(sb, buf);
}

static void values_rec(struct gb_sb *sb, const float *data, int ndim, const int *shape, int is_bool) {
    if (ndim == 0) {
        if (is_bool) gb_sb_puts(sb, data[0] != 0.0f ? "true" : "false");
        else gb_sb_json_number(sb, data[0]);
        return;
    }
    int inner = 1;
    for (int d = 1; d < ndim; d++) inner *= shape[d];
    gb_sb_putc(sb, '[');
    for (int i = 0; i < shape[0]; i++) {
        if (i) gb_sb_puts(sb, ", ");
        values_rec(sb, data + (size_t)i * inner, ndim - 1, shape + 1, is_bool);
    }
    gb_sb_putc(sb, ']');
}

void gb_sb_json_values(struct gb_sb *sb, const float *data, int ndim, const int *shape, int is_bool) {
    if (!data) { gb_sb_puts(sb, "null"); return; }
    values_rec(sb, data, ndim, shape, is_bool);
}

const char *gb_sb_str(const struct gb_sb *sb) { return sb->buf ? sb->buf : ""; }
