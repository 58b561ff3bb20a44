// repr.c: a tensor printed exactly as PyTorch 1.13 prints it (torch/_tensor_str.py),
// so the page's outputs read like the notebook's:
//   tensor([-12.,  65.], grad_fn=<SubBackward0>)
// One formatter is chosen for the whole tensor, from its nonzero finite values:
//   - all integers: "%.0f" plus a dot ("36."), unless the values span more than
//     1000x or exceed 1e8, then scientific;
//   - otherwise 4 decimals ("0.5000"), or scientific ("1.0000e-05") when the
//     values span more than 1000x, exceed 1e8 or go below 1e-4;
// and every element is right-aligned to the widest. Lines wrap at 80 columns;
// tensors of more than 1000 elements show 3 items at each edge around "...".
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "gb_repr.h"
#include "gb_sb.h"

enum { LINEWIDTH = 80, THRESHOLD = 1000, EDGEITEMS = 3, PRECISION = 4 };

typedef struct formatter {
    int is_bool;
    int int_mode, sci_mode;
    int max_width;
} formatter;

// The value as PyTorch writes it, before padding.
static void format_raw(const formatter *f, float v, char *buf, size_t cap) {
    if (f->is_bool) { snprintf(buf, cap, "%s", v != 0.0f ? "True" : "False"); return; }
    if (isnan(v)) { snprintf(buf, cap, "nan"); return; }
    if (isinf(v)) { snprintf(buf, cap, v > 0 ? "inf" : "-inf"); return; }
    if (f->sci_mode) snprintf(buf, cap, "%.*e", PRECISION, (double)v);
    else if (f->int_mode) snprintf(buf, cap, "%.0f.", (double)v);
    else snprintf(buf, cap, "%.*f", PRECISION, (double)v);
}

// Collects the elements that will be printed (all, or the edges when
// summarising), so the formatter sees exactly what PyTorch's sees.
static int collect(const float *data, int ndim, const int *shape, int summarize, float *out, int n) {
    if (ndim == 0) { out[n] = data[0]; return n + 1; }
    int inner = 1;
    for (int d = 1; d < ndim; d++) inner *= shape[d];
    int rows = shape[0];
    for (int i = 0; i < rows; i++) {
        if (summarize && rows > 2 * EDGEITEMS && i == EDGEITEMS) i = rows - EDGEITEMS;
        n = collect(data + (size_t)i * inner, ndim - 1, shape + 1, summarize, out, n);
    }
    return n;
}

static void formatter_init(formatter *f, const float *vals, int n, int is_bool) {
    memset(f, 0, sizeof *f);
    f->is_bool = is_bool;
    f->int_mode = 1;
    f->max_width = 1;
    char buf[64];
    if (is_bool) {
        for (int i = 0; i < n; i++) {
            format_raw(f, vals[i], buf, sizeof buf);
            if ((int)strlen(buf) > f->max_width) f->max_width = (int)strlen(buf);
        }
        return;
    }
    double lo = INFINITY, hi = 0;
    int any = 0;
    for (int i = 0; i < n; i++) {
        float v = vals[i];
        if (!isfinite(v) || v == 0.0f) continue;
        any = 1;
        double a = fabs((double)v);
        if (a < lo) lo = a;
        if (a > hi) hi = a;
        if (v != ceilf(v)) f->int_mode = 0;
    }
    if (!any) return;   // nothing finite and nonzero: PyTorch keeps int mode, width 1
    if (f->int_mode) f->sci_mode = hi / lo > 1000.0 || hi > 1.0e8;
    else f->sci_mode = hi / lo > 1000.0 || hi > 1.0e8 || lo < 1.0e-4;
    for (int i = 0; i < n; i++) {
        float v = vals[i];
        if (!isfinite(v) || v == 0.0f) continue;
        format_raw(f, v, buf, sizeof buf);   // int mode: the dot counts, as PyTorch's +1
        if ((int)strlen(buf) > f->max_width) f->max_width = (int)strlen(buf);
    }
}

static void put_value(gb_sb *sb, const formatter *f, float v) {
    char buf[64];
    format_raw(f, v, buf, sizeof buf);
    for (int pad = f->max_width - (int)strlen(buf); pad > 0; pad--) gb_sb_putc(sb, ' ');
    gb_sb_puts(sb, buf);
}

static void put_newline_indent(gb_sb *sb, int newlines, int indent) {
    for (int i = 0; i < newlines; i++) gb_sb_putc(sb, '\n');
    for (int i = 0; i < indent; i++) gb_sb_putc(sb, ' ');
}

static void vector_str(gb_sb *sb, const formatter *f, const float *data, int n, int indent, int summarize) {
    int element_length = f->max_width + 2;
    int per_line = (LINEWIDTH - indent) / element_length;
    if (per_line < 1) per_line = 1;
    gb_sb_putc(sb, '[');
    int printed = 0;   // items on the current line, " ..." counting as one
    for (int i = 0; i < n; i++) {
        int ellipsis = summarize && n > 2 * EDGEITEMS && i == EDGEITEMS;
        if (i) {
            if (printed == per_line) { gb_sb_putc(sb, ','); put_newline_indent(sb, 1, indent + 1); printed = 0; }
            else gb_sb_puts(sb, ", ");
        }
        if (ellipsis) { gb_sb_puts(sb, " ..."); i = n - EDGEITEMS - 1; }
        else put_value(sb, f, data[i]);
        printed++;
    }
    gb_sb_putc(sb, ']');
}

static void tensor_str(gb_sb *sb, const formatter *f, const float *data, int ndim, const int *shape,
                       int indent, int summarize) {
    if (ndim == 0) { put_value(sb, f, data[0]); return; }
    if (ndim == 1) { vector_str(sb, f, data, shape[0], indent, summarize); return; }
    int inner = 1;
    for (int d = 1; d < ndim; d++) inner *= shape[d];
    gb_sb_putc(sb, '[');
    for (int i = 0; i < shape[0]; i++) {
        if (i) { gb_sb_putc(sb, ','); put_newline_indent(sb, ndim - 1, indent + 1); }
        if (summarize && shape[0] > 2 * EDGEITEMS && i == EDGEITEMS) {
            gb_sb_puts(sb, "...");
            gb_sb_putc(sb, ',');
            put_newline_indent(sb, ndim - 1, indent + 1);
            i = shape[0] - EDGEITEMS;
        }
        tensor_str(sb, f, data + (size_t)i * inner, ndim - 1, shape + 1, indent + 1, summarize);
    }
    gb_sb_putc(sb, ']');
}

// Appends ", grad_fn=<...>" (PyTorch's _add_suffixes): on the same line, or
// on a new one when the line would pass 80 columns. `last_line_len` is
// PyTorch's own running count (which starts 2 above the visible length).
static void add_suffix(gb_sb *sb, const char *suffix, int indent, int *last_line_len) {
    int n = (int)strlen(suffix);
    if (*last_line_len + n + 2 > LINEWIDTH) {
        gb_sb_putc(sb, ',');
        put_newline_indent(sb, 1, indent);
        *last_line_len = indent + n;
    } else {
        gb_sb_puts(sb, ", ");
        *last_line_len += n + 2;
    }
    gb_sb_puts(sb, suffix);
}

void gb_repr_values(gb_sb *sb, const float *data, int ndim, const int *shape, int is_bool,
                    const char *grad_fn, int requires_grad) {
    size_t start = sb->len;
    const int indent = 7;   // strlen("tensor(")
    gb_sb_puts(sb, "tensor(");
    int numel = 1;
    for (int d = 0; d < ndim; d++) numel *= shape[d];
    int n_suffix = 0;
    char suffixes[2][96];
    if (numel == 0) {
        gb_sb_puts(sb, "[]");
        if (ndim != 1) {
            int off = snprintf(suffixes[n_suffix], sizeof suffixes[0], "size=(");
            for (int d = 0; d < ndim; d++)
                off += snprintf(suffixes[n_suffix] + off, sizeof suffixes[0] - (size_t)off,
                                d < ndim - 1 ? "%d, " : "%d", shape[d]);
            snprintf(suffixes[n_suffix] + off, sizeof suffixes[0] - (size_t)off, ")");
            n_suffix++;
        }
        if (is_bool) snprintf(suffixes[n_suffix++], sizeof suffixes[0], "dtype=torch.bool");
    } else {
        int summarize = numel > THRESHOLD;
        // Summarised data has at most 6 items per dim; otherwise numel <= 1000.
        float vals[6 * 6 * 6 * 6];
        int n = collect(data, ndim, shape, summarize, vals, 0);
        formatter f;
        formatter_init(&f, vals, n, is_bool);
        tensor_str(sb, &f, data, ndim, shape, indent, summarize);
    }
    if (grad_fn) {
        snprintf(suffixes[n_suffix++], sizeof suffixes[0], "grad_fn=<%s>", grad_fn);
    } else if (requires_grad) {
        snprintf(suffixes[n_suffix++], sizeof suffixes[0], "requires_grad=True");
    }
    const char *text = sb->buf + start;
    const char *nl = strrchr(text, '\n');
    int last_line_len = (int)strlen(nl ? nl + 1 : text) + 2;
    for (int i = 0; i < n_suffix; i++) add_suffix(sb, suffixes[i], indent, &last_line_len);
    gb_sb_putc(sb, ')');
}

void gb_repr(gb_sb *sb, const gb_tensor *t) {
    gb_repr_values(sb, t->data, t->ndim, t->shape, (t->flags & GB_BOOL) != 0,
                   t->grad_fn ? t->grad_fn->op->name : NULL, (t->flags & GB_REQUIRES_GRAD) != 0);
}
