// gb_sb.h: a growing string buffer, for JSON and reprs.
#ifndef GB_SB_H
#define GB_SB_H

#include <stddef.h>

struct gb_sb {
    char *buf;
    size_t len, cap;
    int failed;      // an allocation failed: the text is cut short
};

void gb_sb_init(struct gb_sb *sb);
void gb_sb_free(struct gb_sb *sb);
void gb_sb_clear(struct gb_sb *sb);
void gb_sb_puts(struct gb_sb *sb, const char *s);
void gb_sb_putc(struct gb_sb *sb, char c);
void gb_sb_printf(struct gb_sb *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void gb_sb_json_string(struct gb_sb *sb, const char *s);   // quoted and escaped
void gb_sb_json_number(struct gb_sb *sb, double v);        // null when not finite
// A tensor's values as nested JSON lists, as tensor.tolist() gives them.
void gb_sb_json_values(struct gb_sb *sb, const float *data, int ndim, const int *shape, int is_bool);
const char *gb_sb_str(const struct gb_sb *sb);

#endif
