// linear.c: a fully connected layer, y = x·wᵀ + b (AddmmBackward0).
//   forward   y[n,o] = b[o] + Σ_i x[n,i] · w[o,i]        x (N,in), w (out,in)
//   backward  dx += dy · w,   dw += dyᵀ · x,   db += Σ_n dy[n,:]
// The products are engine/kernels' GEMMs; inputs are ordered as PyTorch's
// AddmmBackward0 lists them: bias, input, weight (without a bias PyTorch
// records MmBackward0 of input and weight: the same maths minus db).
#include "gb_layers.h"

#include "../kernels/gemm.h"

static void linear_backward(gb_node *node, gb_graph *g) {
    int has_bias = node->n_inputs == 3;
    gb_tensor *b = has_bias ? node->inputs[0] : NULL;
    gb_tensor *x = node->inputs[has_bias], *w = node->inputs[has_bias + 1];
    int N = x->shape[0], in = x->shape[1], out = w->shape[0];
    const float *dy = node->output->flow;
    if (gb_needs_grad(x)) {   // dx (N,in) += dy (N,out) · w (out,in)
        float *dx = gb_flow(g, x);
        float *scratch = gb_graph_scratch(g, gb_f32_gemm_scratch_floats(N, in, out, 0) * sizeof(float));
        if (!dx || !scratch) { g->out_of_memory = 1; return; }
        gb_f32_gemm(N, in, out, dy, out, w->data, in, dx, in, NULL, 1, scratch);
    }
    if (gb_needs_grad(w)) {   // dw (out,in) += dyᵀ (out,N) · x (N,in)
        float *dw = gb_flow(g, w);
        float *scratch = gb_graph_scratch(g, gb_f32_gemm_scratch_floats(out, in, N, 1) * sizeof(float));
        if (!dw || !scratch) { g->out_of_memory = 1; return; }
        gb_f32_gemm_tn(out, in, N, dy, out, x->data, in, dw, in, 1, scratch);
    }
    if (b && gb_needs_grad(b)) {   // db[o] += Σ_n dy[n,o]
        float *db = gb_flow(g, b);
        if (!db) return;
        for (int o = 0; o < out; o++) {
            float s = 0;
            for (int n = 0; n < N; n++) s += dy[n * out + o];
            db[o] += s;
        }
    }
}

// The larger of the two GEMMs' work areas (gb_op_def.backward_scratch).
static size_t linear_backward_scratch(const gb_node *node) {
    int has_bias = node->n_inputs == 3;
    const gb_tensor *x = node->inputs[has_bias], *w = node->inputs[has_bias + 1];
    int N = x->shape[0], in = x->shape[1], out = w->shape[0];
    size_t dx = gb_needs_grad(x) ? gb_f32_gemm_scratch_floats(N, in, out, 0) : 0;
    size_t dw = gb_needs_grad(w) ? gb_f32_gemm_scratch_floats(out, in, N, 1) : 0;
    return (dx > dw ? dx : dw) * sizeof(float);
}

static void linear_describe(const gb_node *node, gb_sb *sb, int locals) {
    int has_bias = node->n_inputs == 3;
    if (!locals) return;
    if (has_bias) gb_desc_local(sb, node, 0, "1 (summed over the batch)");
    gb_desc_local(sb, node, has_bias, "w");
    gb_desc_local(sb, node, has_bias + 1, "dyᵀ·x");
}

const gb_op_def gb_op_linear = { .name = "AddmmBackward0", .backward = linear_backward,
                                 .describe = linear_describe, .saves_tensors = 1,
                                 .unread = GB_UNREAD_INPUT(0) | GB_UNREAD_OUTPUT,   // b, x, w: b unread
                                 .backward_scratch = linear_backward_scratch };
const gb_op_def gb_op_linear_no_bias = { .name = "MmBackward0", .backward = linear_backward,
                                         .describe = linear_describe, .saves_tensors = 1,
                                         .unread = GB_UNREAD_OUTPUT, .backward_scratch = linear_backward_scratch };

gb_status gb_linear(gb_graph *g, gb_tensor *x, gb_tensor *w, gb_tensor *b, gb_tensor **out) {
    if (x->ndim != 2 || w->ndim != 2)
        return gb_set_error(GB_ERR_SHAPE, "linear: expected a 2-D input and weight, got %dD and %dD", x->ndim, w->ndim);
    int N = x->shape[0], in = x->shape[1], nout = w->shape[0];
    if (w->shape[1] != in)
        return gb_set_error(GB_ERR_SHAPE, "mat1 and mat2 shapes cannot be multiplied (%dx%d and %dx%d)", N, in,
                            w->shape[1], nout);
    if (b && (b->ndim != 1 || b->shape[0] != nout))
        return gb_set_error(GB_ERR_SHAPE, "linear: the bias has %d elements, expected %d", b->numel, nout);
    int shape[2] = { N, nout };
    gb_tensor *y = gb_graph_tensor(g, 2, shape);
    float *scratch = gb_graph_scratch(g, gb_f32_gemm_scratch_floats(N, nout, in, 0) * sizeof(float));
    if (!y || !scratch) return gb_set_error(GB_ERR_NOMEM, "linear: out of memory");
    if (!gb_graph_measuring(g))   // the plan pass runs no kernel
        gb_f32_gemm_nt(N, nout, in, x->data, in, w->data, in, y->data, nout, b ? b->data : NULL, 0, scratch);
    gb_tensor *inputs[3] = { b, x, w };
    if (b) gb_graph_record(g, &gb_op_linear, y, inputs, 3, NULL);
    else gb_graph_record(g, &gb_op_linear_no_bias, y, inputs + 1, 2, NULL);
    *out = y;
    return GB_OK;
}
