// module_repr.c: print(model), as torch.nn.Module.__repr__ writes it.
//   Type(extra_repr)                      a leaf module: one line
//   Type(\n  (name): child\n  ...\n)      a container: each child on its own
//                                         line, its own lines indented 2 more
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gb_module.h"

// repr(float) as Python writes it: the shortest text that reads back as the
// same double; exponent form below 1e-4 or from 1e16 ("1e-05"), and a ".0"
// on whole numbers ("1.0").
static void py_float(gb_sb *sb, double v) {
    char buf[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) break;
    }
    int exp10 = v == 0 ? 0 : (int)floor(log10(fabs(v)));
    if (strchr(buf, 'e') && exp10 >= -4 && exp10 < 16) {
        snprintf(buf, sizeof buf, "%.17g", v);   // %g chose an exponent Python would not
        for (int prec = 1; prec <= 17; prec++) {
            snprintf(buf, sizeof buf, "%.*f", prec, v);
            if (strtod(buf, NULL) == v) break;
        }
    }
    if (!strpbrk(buf, ".einf")) strcat(buf, ".0");
    gb_sb_puts(sb, buf);
}

static const char *py_bool(int b) { return b ? "True" : "False"; }

void gb_module_extra_repr(const gb_module *m, gb_sb *sb) {
    switch (m->kind) {
    case GB_MOD_CONV2D:
        // NOTE: torch omits padding when it is all zeros (the 1×1 downsample conv).
        gb_sb_printf(sb, "%d, %d, kernel_size=(%d, %d), stride=(%d, %d)", m->in_ch, m->out_ch, m->kernel,
                     m->kernel, m->stride, m->stride);
        if (m->padding) gb_sb_printf(sb, ", padding=(%d, %d)", m->padding, m->padding);
        if (!m->has_bias) gb_sb_puts(sb, ", bias=False");
        break;
    case GB_MOD_BATCHNORM2D:
        gb_sb_printf(sb, "%d, eps=", m->in_ch);
        py_float(sb, m->eps);
        gb_sb_puts(sb, ", momentum=");
        py_float(sb, m->momentum);
        gb_sb_puts(sb, ", affine=True, track_running_stats=True");
        break;
    case GB_MOD_RELU:
        if (m->inplace) gb_sb_puts(sb, "inplace=True");   // ReLU() when not in place
        break;
    case GB_MOD_MAXPOOL2D:
        gb_sb_printf(sb, "kernel_size=%d, stride=%d, padding=%d, dilation=1, ceil_mode=False", m->kernel,
                     m->stride, m->padding);
        break;
    case GB_MOD_ADAPTIVE_AVGPOOL2D:
        gb_sb_puts(sb, "output_size=(1, 1)");
        break;
    case GB_MOD_LINEAR:
        gb_sb_printf(sb, "in_features=%d, out_features=%d, bias=%s", m->in_ch, m->out_ch, py_bool(m->has_bias));
        break;
    default:
        break;   // containers have no extra_repr
    }
}

static void indent(gb_sb *sb, int n) {
    for (int i = 0; i < n; i++) gb_sb_putc(sb, ' ');
}

static void repr_at(const gb_module *m, gb_sb *sb, int depth) {
    gb_sb_puts(sb, gb_module_type(m));
    gb_sb_putc(sb, '(');
    gb_sb extra;
    gb_sb_init(&extra);
    gb_module_extra_repr(m, &extra);
    int has_extra = extra.len > 0;
    if (has_extra && m->n_children == 0) {
        gb_sb_puts(sb, gb_sb_str(&extra));   // one line of extra_repr, no children
    } else if (has_extra || m->n_children) {
        if (has_extra) { gb_sb_putc(sb, '\n'); indent(sb, depth + 2); gb_sb_puts(sb, gb_sb_str(&extra)); }
        for (int i = 0; i < m->n_children; i++) {
            gb_sb_putc(sb, '\n');
            indent(sb, depth + 2);
            gb_sb_printf(sb, "(%s): ", m->children[i]->name);
            repr_at(m->children[i], sb, depth + 2);
        }
        gb_sb_putc(sb, '\n');
        indent(sb, depth);
    }
    gb_sb_putc(sb, ')');
    gb_sb_free(&extra);
}

void gb_module_repr(const gb_module *m, gb_sb *sb) { repr_at(m, sb, 0); }

void gb_module_children_repr(const gb_module *m, gb_sb *sb) {
    for (int i = 0; i < m->n_children; i++) {
        repr_at(m->children[i], sb, 0);
        gb_sb_putc(sb, '\n');
    }
}

// --- JSON for the page's layer tree ---------------------------------------------

static void json_shape(gb_sb *sb, int ndim, const int *shape) {
    gb_sb_putc(sb, '[');
    for (int d = 0; d < ndim; d++) gb_sb_printf(sb, d ? ", %d" : "%d", shape[d]);
    gb_sb_putc(sb, ']');
}

// ‖g‖₂ = sqrt(Σ g²), summed in double (torch's g.double().norm()).
static double l2_norm(const float *g, int n) {
    double sum = 0.0;
    for (int i = 0; i < n; i++) sum += (double)g[i] * g[i];
    return sqrt(sum);
}

static void count_trainable(gb_module *m, void *ctx) {
    for (int i = 0; i < m->n_params; i++)
        if (m->params[i]->flags & GB_REQUIRES_GRAD) *(int64_t *)ctx += m->params[i]->numel;
}

void gb_module_json(const gb_module *m, gb_sb *sb) {
    gb_sb extra;
    gb_sb_init(&extra);
    gb_module_extra_repr(m, &extra);
    int64_t trainable = 0;
    gb_module_walk((gb_module *)m, count_trainable, &trainable);
    gb_sb_puts(sb, "{\"name\": ");
    gb_sb_json_string(sb, m->name);
    gb_sb_puts(sb, ", \"path\": ");
    gb_sb_json_string(sb, m->path);
    gb_sb_printf(sb, ", \"type\": \"%s\", \"extra_repr\": ", gb_module_type(m));
    gb_sb_json_string(sb, gb_sb_str(&extra));
    gb_sb_printf(sb, ", \"training\": %s, \"num_params\": %lld, \"trainable_params\": %lld, \"output_shape\": ",
                 m->training ? "true" : "false", (long long)gb_module_num_params((gb_module *)m), (long long)trainable);
    json_shape(sb, m->out_ndim, m->out_shape);
    gb_sb_puts(sb, ", \"parameters\": [");
    for (int i = 0; i < m->n_params; i++) {
        const gb_tensor *p = m->params[i];
        gb_sb_puts(sb, i ? ", {\"name\": " : "{\"name\": ");
        gb_sb_json_string(sb, p->name);
        gb_sb_puts(sb, ", \"shape\": ");
        json_shape(sb, p->ndim, p->shape);
        gb_sb_printf(sb, ", \"numel\": %d, \"requires_grad\": %s, \"has_grad\": %s, \"grad_norm\": ", p->numel,
                     (p->flags & GB_REQUIRES_GRAD) ? "true" : "false", p->grad ? "true" : "false");
        if (p->grad) gb_sb_json_number(sb, l2_norm(p->grad, p->numel));
        else gb_sb_puts(sb, "null");   // .grad is None
        gb_sb_putc(sb, '}');
    }
    gb_sb_puts(sb, "], \"children\": [");
    for (int i = 0; i < m->n_children; i++) {
        if (i) gb_sb_puts(sb, ", ");
        gb_module_json(m->children[i], sb);
    }
    gb_sb_puts(sb, "]}");
    gb_sb_free(&extra);
}
