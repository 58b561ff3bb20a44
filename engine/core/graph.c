// graph.c: the tape. Ops record themselves as they run; backward replays the
// tape in reverse, so every node runs after all the nodes that use its output
// (the tape order is a topological order of the graph).
#include <stdlib.h>
#include <string.h>

#include "gb_tensor.h"
#include "../threads/gb_pool.h"

void gb_graph_init(gb_graph *g) {
    memset(g, 0, sizeof *g);
    gb_arena_init(&g->arena, 1u << 16);
    g->grad_enabled = 1;
}

// --- a lean graph's heap buffers ---------------------------------------------

// Fresh memory an op must write before it reads: left as it comes (no
// memset pass over every activation), or all NaNs in the sanitizer build.
static void poison(void *p, size_t bytes) {
#ifdef GB_POISON_BUFFERS
    memset(p, 0xff, bytes);   // 0xffffffff is a NaN
#else
    (void)p, (void)bytes;
#endif
}

// A 64-byte aligned buffer the graph tracks, contents undefined; NULL when
// out of memory.
static void *buffer_new(gb_graph *g, size_t bytes) {
    if (g->n_buffers == g->cap_buffers) {
        int cap = g->cap_buffers ? 2 * g->cap_buffers : 64;
        void **b = realloc(g->buffers, (size_t)cap * sizeof *b);
        if (!b) return NULL;
        g->buffers = b;
        size_t *n = realloc(g->buffer_bytes, (size_t)cap * sizeof *n);
        if (!n) return NULL;
        g->buffer_bytes = n;
        g->cap_buffers = cap;
    }
    bytes = (bytes + 63) & ~(size_t)63;
    void *p = aligned_alloc(64, bytes ? bytes : 64);
    if (!p) return NULL;
    poison(p, bytes);
    g->buffers[g->n_buffers] = p;
    g->buffer_bytes[g->n_buffers++] = bytes;
    g->buffer_live += bytes;
    size_t now = g->arena.used + g->buffer_live;
    if (now > g->peak) g->peak = now;
    return p;
}

static void buffer_free(gb_graph *g, void *p) {
    for (int i = g->n_buffers - 1; i >= 0; i--) {   // recent buffers die first
        if (g->buffers[i] != p) continue;
        g->buffer_live -= g->buffer_bytes[i];
        g->buffers[i] = g->buffers[--g->n_buffers];
        g->buffer_bytes[i] = g->buffer_bytes[g->n_buffers];
        free(p);
        return;
    }
    GB_ASSERT(0, "freeing a buffer the graph does not hold");
}

static void buffers_free_all(gb_graph *g) {
    for (int i = 0; i < g->n_buffers; i++) free(g->buffers[i]);
    g->n_buffers = 0;
    g->buffer_live = 0;
}

void gb_graph_release(gb_graph *g, gb_tensor *t) {
    if (!t || !(t->flags & GB_OWNS_BUFFER) || t->saved_by > 0) return;
    buffer_free(g, t->data);
    t->data = NULL;
    t->flags &= ~(unsigned)GB_OWNS_BUFFER;
}

void *gb_graph_scratch(gb_graph *g, size_t bytes) {
    if (bytes > g->scratch_bytes) {
        free(g->scratch);
        g->scratch_bytes = (bytes + 63) & ~(size_t)63;
        g->scratch = aligned_alloc(64, g->scratch_bytes);
        if (!g->scratch) { g->scratch_bytes = 0; return NULL; }
    }
    poison(g->scratch, bytes);
    return g->scratch;
}

size_t gb_graph_peak_bytes(const gb_graph *g) {
    return (g->peak > g->arena.peak ? g->peak : g->arena.peak) + g->scratch_bytes;
}

// --- the graph -----------------------------------------------------------------

void gb_graph_reset(gb_graph *g) {
    gb_arena_reset(&g->arena);
    buffers_free_all(g);
    g->n_nodes = 0;
    g->n_backward_run = 0;
    g->peak = g->arena.peak = 0;   // a step's peak is its own (api's step info)
}

void gb_graph_free(gb_graph *g) {
    gb_arena_free(&g->arena);
    buffers_free_all(g);
    free(g->buffers);
    free(g->buffer_bytes);
    free(g->scratch);
    free(g->nodes);
    g->buffers = NULL;
    g->buffer_bytes = NULL;
    g->scratch = NULL;
    g->cap_buffers = 0;
    g->scratch_bytes = 0;
    g->nodes = NULL;
    g->n_nodes = g->cap_nodes = 0;
}

gb_tensor *gb_graph_tensor(gb_graph *g, int ndim, const int *shape) {
    if (!g->lean) return gb_tensor_new(&g->arena, ndim, shape);
    gb_tensor *t = gb_tensor_shell(&g->arena, ndim, shape);
    if (!t) return NULL;
    t->data = buffer_new(g, (t->numel ? (size_t)t->numel : 1) * sizeof(float));
    if (!t->data) { gb_set_error(GB_ERR_NOMEM, "out of memory for %d floats", t->numel); return NULL; }
    t->flags |= GB_OWNS_BUFFER;
    return t;
}

gb_tensor *gb_graph_view(gb_graph *g, gb_tensor *x, int ndim, const int *shape) {
    gb_tensor *t = gb_arena_alloc(&g->arena, sizeof *t);
    if (!t) { gb_set_error(GB_ERR_NOMEM, "out of memory for a view"); return NULL; }
    t->ndim = ndim;
    t->numel = 1;
    for (int d = 0; d < ndim; d++) t->numel *= (t->shape[d] = shape[d]);
    GB_ASSERT(t->numel == x->numel, "a view keeps the number of elements");
    t->data = x->data;
    return t;
}

gb_node *gb_graph_record(gb_graph *g, const gb_op_def *op, gb_tensor *out,
                         gb_tensor *const *inputs, int n_inputs, const gb_op_params *p) {
    GB_ASSERT(n_inputs >= 1 && n_inputs <= GB_MAX_INPUTS, "%s: %d inputs", op->name, n_inputs);
    int any = 0;
    for (int i = 0; i < n_inputs; i++) any |= gb_needs_grad(inputs[i]);
    if (!g->grad_enabled || !any) return NULL;       // nothing to differentiate: no node
    if (g->n_nodes == g->cap_nodes) {
        // The node list outlives resets, so a repeated step stops growing it.
        int cap = g->cap_nodes ? 2 * g->cap_nodes : 64;
        gb_node **nodes = realloc(g->nodes, (size_t)cap * sizeof *nodes);
        if (!nodes) return NULL;
        g->nodes = nodes;
        g->cap_nodes = cap;
    }
    gb_node *node = gb_arena_alloc(&g->arena, sizeof *node);
    if (!node) return NULL;
    node->op = op;
    node->output = out;
    node->n_inputs = n_inputs;
    for (int i = 0; i < n_inputs; i++) node->inputs[i] = inputs[i];
    if (p) node->p = *p;
    out->grad_fn = node;
    out->flags |= GB_NEEDS_GRAD;
    // What backward will read stays alive (gb_graph_release leaves it be).
    for (int i = 0; i < n_inputs; i++)
        if (!(op->unread & GB_UNREAD_INPUT(i)) && (inputs[i]->flags & GB_OWNS_BUFFER)) inputs[i]->saved_by++;
    if (!(op->unread & GB_UNREAD_OUTPUT) && (out->flags & GB_OWNS_BUFFER)) out->saved_by++;
    g->nodes[g->n_nodes++] = node;
    return node;
}

// Gradients start as n negative zeros. NOTE: -0.0 is the true additive identity of
// IEEE floats (-0 + x == x for every x, even x = -0), so a gradient that
// starts there keeps the sign of a zero contribution, as PyTorch's does when
// it takes the first gradient as it is instead of adding it to zeros.
static void fill_run(float *p, int n) {
    // 16 by hand, then memcpy doubles what is done (this file is built for
    // size, and a training step fills hundreds of MB of flows).
    int done = n < 16 ? n : 16;
    for (int i = 0; i < done; i++) p[i] = -0.0f;
    while (done < n) {
        int chunk = n - done < done ? n - done : done;
        memcpy(p + done, p, (size_t)chunk * sizeof(float));
        done += chunk;
    }
}

static void fill_range(void *ctx, size_t lo, size_t hi) {
    fill_run((float *)ctx + lo, (int)(hi - lo));
}

// Large flows: every thread fills a part.
static void fill_negative_zeros(float *p, int n) { gb_parallel_range((size_t)n, fill_range, p); }

static float *negative_zeros(gb_arena *arena, int n) {
    float *p = gb_arena_alloc_uninit(arena, (size_t)(n ? n : 1) * sizeof(float));
    if (p) fill_negative_zeros(p, n);
    return p;
}

// A new flow, filled with -0.0 or (fill = 0) left for its first writer to store.
static float *new_flow(gb_graph *g, gb_tensor *t, int fill) {
    const int n = t->numel;
    float *p;
    if (g->lean && g->leaf_arena && gb_is_leaf(t) && (t->flags & GB_REQUIRES_GRAD) && !t->grad) {
        // A parameter without .grad: its flow is its .grad (-0 + flow == flow,
        // bit for bit), so no second buffer and no copy at AccumulateGrad.
        p = t->grad = gb_arena_alloc_uninit(g->leaf_arena, (size_t)(n ? n : 1) * sizeof(float));
    } else if (g->lean) {
        p = buffer_new(g, (size_t)(n ? n : 1) * sizeof(float));
    } else {
        p = gb_arena_alloc_uninit(&g->arena, (size_t)(n ? n : 1) * sizeof(float));
    }
    if (p && fill) fill_negative_zeros(p, n);
    return p;
}

float *gb_flow(gb_graph *g, gb_tensor *t) {
    if (!t->flow) t->flow = new_flow(g, t, 1);
    if (!t->flow) g->out_of_memory = 1;
    return t->flow;
}

float *gb_flow_for_store(gb_graph *g, gb_tensor *t, int *store) {
    *store = !t->flow;
    if (!t->flow) t->flow = new_flow(g, t, 0);
    if (!t->flow) g->out_of_memory = 1;
    return t->flow;
}

// Marks the nodes backward must run: those reachable from root through
// inputs that need a gradient. One reverse pass suffices on a topological tape.
static void mark_reachable(gb_graph *g, gb_tensor *root) {
    for (int i = 0; i < g->n_nodes; i++) g->nodes[i]->mark = 0;
    if (root->grad_fn) root->grad_fn->mark = 1;
    for (int i = g->n_nodes - 1; i >= 0; i--) {
        gb_node *node = g->nodes[i];
        if (!node->mark) continue;
        for (int k = 0; k < node->n_inputs; k++) {
            gb_tensor *x = node->inputs[k];
            if (gb_needs_grad(x) && x->grad_fn) x->grad_fn->mark = 1;
        }
    }
}

static const char second_backward_msg[] =
    "Trying to backward through the graph a second time (or directly access saved tensors "
    "after they have already been freed). Saved intermediate values of the graph are freed "
    "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
    "backward through the graph a second time or if you need to access saved tensors after "
    "calling backward.";

// In PyTorch's order: the gradient's shape (or whether one may be implied)
// first, then whether the root is connected to anything that needs a grad.
static gb_status check_backward_args(gb_graph *g, gb_tensor *root, const float *gradient,
                                     int n_gradient) {
    if (gradient && n_gradient != root->numel) {
        char a[64], b[64];
        int gshape[1] = { n_gradient };
        return gb_set_error(GB_ERR_SHAPE,
                            "Mismatch in shape: grad_output[0] has a shape of torch.Size(%s) and "
                            "output[0] has a shape of torch.Size(%s).",
                            gb_shape_str(1, gshape, a, sizeof a),
                            gb_shape_str(root->ndim, root->shape, b, sizeof b));
    }
    if (!gradient && gb_needs_grad(root) && root->numel != 1)
        return gb_set_error(GB_ERR_AUTOGRAD, "grad can be implicitly created only for scalar outputs");
    if (!gb_needs_grad(root))
        return gb_set_error(GB_ERR_AUTOGRAD,
                            "element 0 of tensors does not require grad and does not have a grad_fn");
    for (int i = 0; i < g->n_nodes; i++) {
        const gb_node *node = g->nodes[i];
        if (node->mark && node->freed && node->op->saves_tensors)
            return gb_set_error(GB_ERR_AUTOGRAD, "%s", second_backward_msg);
    }
    return GB_OK;
}

// AccumulateGrad: leaf.grad += the gradient that reached the leaf.
static gb_status accumulate_leaf(gb_tensor *leaf, gb_arena *leaf_arena) {
    if (!leaf->flow || !(leaf->flags & GB_REQUIRES_GRAD) || leaf->flow == leaf->grad) return GB_OK;
    if (!leaf->grad) {
        leaf->grad = negative_zeros(leaf_arena, leaf->numel);
        if (!leaf->grad) return gb_set_error(GB_ERR_NOMEM, "out of memory for %s.grad", leaf->name ? leaf->name : "a leaf");
    }
    for (int i = 0; i < leaf->numel; i++) leaf->grad[i] += leaf->flow[i];
    return GB_OK;
}

gb_status gb_backward(gb_graph *g, gb_tensor *root, const float *gradient, int n_gradient,
                      int retain_graph, gb_arena *leaf_arena) {
    mark_reachable(g, root);
    GB_TRY(check_backward_args(g, root, gradient, n_gradient));

    // Forget the flows of the previous backward: each one starts from zero.
    root->flow = NULL;
    for (int i = 0; i < g->n_nodes; i++) {
        gb_node *node = g->nodes[i];
        if (!node->mark) continue;
        node->output->flow = NULL;
        for (int k = 0; k < node->n_inputs; k++) node->inputs[k]->flow = NULL;
    }

    g->out_of_memory = 0;
    g->n_backward_run = 0;
    for (int i = 0; i < g->n_nodes; i++) g->nodes[i]->ran = 0;
    g->leaf_arena = leaf_arena;
    // Seed: dL/droot = gradient (1 for a scalar root).
    float *seed = gb_flow(g, root);
    if (!seed) { g->leaf_arena = NULL; return gb_set_error(GB_ERR_NOMEM, "out of memory in backward"); }
    for (int i = 0; i < root->numel; i++) seed[i] = gradient ? gradient[i] : 1.0f;

    // The chain rule, node by node, from the root toward the leaves.
    for (int i = g->n_nodes - 1; i >= 0; i--) {
        gb_node *node = g->nodes[i];
        if (!node->mark || !node->output->flow) continue;
        node->op->backward(node, g);
        node->ran = 1;
        g->n_backward_run++;
        if (!retain_graph) node->freed = 1;
        if (g->lean) {   // the only reader of this flow has run: give it back
            buffer_free(g, node->output->flow);
            node->output->flow = NULL;
        }
    }
    g->leaf_arena = NULL;
    if (g->out_of_memory) return gb_set_error(GB_ERR_NOMEM, "out of memory in backward");

    // AccumulateGrad for every leaf the flow reached (each leaf once, even
    // when several nodes use it: their contributions already summed in flow).
    if (gb_is_leaf(root)) GB_TRY(accumulate_leaf(root, leaf_arena));
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < g->n_nodes; i++) {
            gb_node *node = g->nodes[i];
            if (!node->mark) continue;
            for (int k = 0; k < node->n_inputs; k++) {
                gb_tensor *x = node->inputs[k];
                if (!gb_is_leaf(x) || x == root) continue;
                if (pass == 0) x->mark = 0;
                else if (!x->mark) { x->mark = 1; GB_TRY(accumulate_leaf(x, leaf_arena)); }
            }
        }
    }
    return GB_OK;
}
