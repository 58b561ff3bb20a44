// describe.c: how a node explains itself in the graph view: the values it
// saved for backward (PyTorch's _saved_* attributes) and its local derivatives.
#include "gb_ops.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../core/gb_sb.h"

// Each helper appends one element to a JSON list the caller opened with '[':
// a comma goes before every element but the first.
static void comma(gb_sb *sb) {
    if (sb->len && sb->buf[sb->len - 1] != '[') gb_sb_puts(sb, ", ");
}

void gb_desc_saved_tensor(gb_sb *sb, const char *name, const gb_tensor *t) {
    comma(sb);
    gb_sb_puts(sb, "{\"name\": ");
    gb_sb_json_string(sb, name);
    gb_sb_puts(sb, ", \"shape\": [");
    for (int d = 0; d < t->ndim; d++) gb_sb_printf(sb, d ? ", %d" : "%d", t->shape[d]);
    gb_sb_puts(sb, "], \"value\": ");
    gb_sb_json_values(sb, t->data, t->ndim, t->shape, 0);
    gb_sb_putc(sb, '}');
}

void gb_desc_saved_scalar(gb_sb *sb, const char *name, double v) {
    comma(sb);
    gb_sb_puts(sb, "{\"name\": ");
    gb_sb_json_string(sb, name);
    gb_sb_puts(sb, ", \"value\": ");
    gb_sb_json_number(sb, v);
    gb_sb_putc(sb, '}');
}

void gb_desc_local(gb_sb *sb, const gb_node *node, int input, const char *fmt, ...) {
    const gb_tensor *x = node->inputs[input];
    if (!gb_needs_grad(x)) return;
    char label[96], text[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    comma(sb);
    gb_sb_puts(sb, "{\"wrt\": ");
    gb_sb_json_string(sb, gb_label(x, label, sizeof label));
    gb_sb_puts(sb, ", \"d\": ");
    gb_sb_json_string(sb, text);
    gb_sb_putc(sb, '}');
}

const char *gb_num_text(double v, char *buf, size_t cap) {
    if (v == floor(v) && fabs(v) < 1e15) snprintf(buf, cap, "%.0f", v);
    else snprintf(buf, cap, "%.6g", v);
    return buf;
}

// Is s one parenthesised group, "(...)" with the first '(' closed at the end?
static int wrapped_in_parens(const char *s) {
    size_t n = strlen(s);
    if (n < 2 || s[0] != '(' || s[n - 1] != ')') return 0;
    int depth = 0;
    for (size_t i = 0; i < n; i++) {
        depth += s[i] == '(' ? 1 : s[i] == ')' ? -1 : 0;
        if (depth == 0 && i < n - 1) return 0;
    }
    return 1;
}

const char *gb_label(const gb_tensor *t, char *buf, size_t cap) {
    if (t->name) snprintf(buf, cap, "%s", t->name);
    else if (!t->grad_fn && t->ndim == 0) gb_num_text(t->data[0], buf, cap);
    else if (t->grad_fn && t->grad_fn->text) {
        const char *s = t->grad_fn->text;
        int simple = wrapped_in_parens(s) ||
                     strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.()") == strlen(s);
        snprintf(buf, cap, simple ? "%s" : "(%s)", s);
    } else snprintf(buf, cap, "x");
    return buf;
}

const char *gb_power_text(const char *base, double exponent, char *buf, size_t cap) {
    static const char *const superscript[] = { "", "", "²", "³", "⁴", "⁵", "⁶", "⁷", "⁸", "⁹" };
    char num[32];
    if (exponent == 0) snprintf(buf, cap, "1");
    else if (exponent == 1) snprintf(buf, cap, "%s", base);
    else if (exponent == floor(exponent) && exponent >= 2 && exponent <= 9)
        snprintf(buf, cap, "%s%s", base, superscript[(int)exponent]);
    else if (exponent < 0) snprintf(buf, cap, "%s^(%s)", base, gb_num_text(exponent, num, sizeof num));
    else snprintf(buf, cap, "%s^%s", base, gb_num_text(exponent, num, sizeof num));
    return buf;
}
