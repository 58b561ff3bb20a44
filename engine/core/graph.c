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
    g->running = -1;
}

// --- memory -------------------------------------------------------------------

// Fresh memory an op must write before it reads: left as it comes (no
// memset pass over every activation), or all NaNs in the sanitizer build,
// so that a read of a block before its op wrote it, or of bytes the plan
// gave to another tensor, shows (tests/native/test_nn_forward.c).
static void poison(void *p, size_t bytes) {
#ifdef GB_POISON_BUFFERS
    memset(p, 0xff, bytes);   // 0xffffffff is a NaN
#else
    (void)p, (void)bytes;
#endif
}

// The heap work area: a backward's (its sizes are not measured), or any
// op's outside a planned step.
static void *heap_scratch(gb_graph *g, size_t bytes) {
    if (bytes > g->scratch_bytes) {
        free(g->scratch);
        g->scratch_bytes = (bytes + 63) & ~(size_t)63;
        g->scratch = aligned_alloc(64, g->scratch_bytes);
        if (!g->scratch) { g->scratch_bytes = 0; return NULL; }
    }
    poison(g->scratch, bytes);
    return g->scratch;
}

void *gb_graph_scratch(gb_graph *g, size_t bytes) {
    gb_plan *p = g->plan;
    if (!p) return heap_scratch(g, bytes);
    if (g->measuring) {   // a forward op's work area: a block for its one tick
        int b = gb_plan_block_new(p, bytes, g->tick + 1, -1);
        if (b < 0 || !gb_plan_scratch_new(p, b)) return NULL;
        gb_plan_use(p, b, g->tick + 1);
        return g->act ? (void *)g->act : (void *)p;   // not to be written: the op runs no kernel
    }
    const gb_plan_block *b;
    if (g->missed) return heap_scratch(g, bytes);
    if (g->running >= 0) {   // a backward: its node's block, enough for each of its requests
        int k = g->running < p->n_nodes ? p->node_scratch[g->running] : -1;
        b = k >= 0 ? &p->blocks[k] : NULL;
    } else {
        int k = g->n_scratch++;
        b = k < p->n_scratch ? &p->blocks[p->scratch_block[k]] : NULL;
        if (b && b->bytes != (bytes ? (bytes + 63) & ~(size_t)63 : 64)) b = NULL;
    }
    if (!b || b->bytes < bytes) {
        g->missed = 1;
        return heap_scratch(g, bytes);
    }
    poison(g->act + b->offset, bytes);
    return g->act + b->offset;
}

size_t gb_graph_peak_bytes(const gb_graph *g) {
    return g->arena.peak + g->act_peak + g->scratch_bytes;
}

// --- op by op timing (GB_PROFILE_PASSES builds only) --------------------------

#ifdef GB_PROFILE_PASSES
#include <stdio.h>

// A forward op records itself when it has run, so its time is the time since
// the previous record (or reset); a backward node's is its backward call.
// Entries "op fwd <name>" / "op bwd <name>" in gb_pool's pass table.
static double op_clock;

static void op_time(const char *dir, const gb_op_def *op, const gb_tensor *x, const gb_tensor *y) {
    const double now = gb_now_ms();
    char name[48];
    if (!strcmp(op->name, "ConvolutionBackward0"))   // convolutions by shape: C H -> OC OH
        snprintf(name, sizeof name, "op %s conv %dx%d>%dx%d", dir, x->shape[1], x->shape[2], y->shape[1], y->shape[2]);
    else
        snprintf(name, sizeof name, "op %s %s", dir, op->name);
    gb_pool_passes_add(name, now - op_clock);
    op_clock = now;
}
#define OP_CLOCK_START() (op_clock = gb_now_ms())
#define OP_TIME(g, dir, op, x, y) do { if (!(g)->measuring) op_time(dir, op, x, y); } while (0)
#else
#define OP_CLOCK_START() ((void)0)
#define OP_TIME(g, dir, op, x, y) ((void)0)
#endif

// --- the graph -----------------------------------------------------------------

void gb_graph_reset(gb_graph *g) {
    gb_arena_reset(&g->arena);
    g->n_nodes = 0;
    g->n_backward_run = 0;
    g->tick = g->n_slots = g->n_scratch = 0;
    g->arena.peak = g->act_peak = 0;   // a step's peak is its own (api's step info)
    OP_CLOCK_START();
}

void gb_graph_free(gb_graph *g) {
    gb_arena_free(&g->arena);
    for (int i = 0; i < GB_GRAPH_PLANS; i++) gb_plan_free(&g->plans[i]);
    free(g->act);
    free(g->scratch);
    free(g->nodes);
    gb_arena init = g->arena;
    memset(g, 0, sizeof *g);
    g->arena = init;
    g->grad_enabled = 1;
    g->running = -1;
}

// A step tensor's memory, from the plan: the block's offset in the arena. An
// in-place output (its block merged into its input's) is not poisoned: its
// op reads the input there. NULL when the plan did not foresee this request
// (then the caller takes arena memory and the plan is measured again); from
// then on the run takes nothing more from the plan, whose lifetimes may no
// longer hold.
static void *planned(gb_graph *g, int slot, int flow, size_t bytes) {
    const gb_plan *p = g->plan;
    if (g->missed) return NULL;
    int block = slot >= 1 && slot <= p->n_tensors ? (flow ? p->flow_block : p->data_block)[slot - 1] : -1;
    size_t want = bytes ? (bytes + 63) & ~(size_t)63 : 64;
    if (!p->valid || block < 0 || p->blocks[block].bytes != want) {
        g->missed = 1;
        return NULL;
    }
    void *mem = g->act + p->blocks[block].offset;
    if (p->blocks[block].alias < 0) poison(mem, bytes);
    return mem;
}

// The next step tensor's slot: while measuring, a new block (or x's, for a
// view: block -2) and its table entry; when running, the same slot number.
static gb_status take_slot(gb_graph *g, gb_tensor *t, size_t bytes, int view_of_block, gb_tensor *reuse) {
    if (!g->plan) return GB_OK;
    t->slot = ++g->n_slots;
    if (!g->measuring) return GB_OK;
    int b = view_of_block;
    if (b == -2) {
        int r = reuse && reuse->slot ? g->plan->data_block[reuse->slot - 1] : -1;
        if ((b = gb_plan_block_new(g->plan, bytes, g->tick + 1, r)) < 0) goto nomem;
    }
    if (gb_plan_tensor_new(g->plan, b) != t->slot) goto nomem;
    return GB_OK;
nomem:
    return gb_set_error(GB_ERR_NOMEM, "out of memory for a plan");
}

static gb_tensor *step_tensor(gb_graph *g, int ndim, const int *shape, gb_tensor *reuse) {
    if (!g->plan) return gb_tensor_new(&g->arena, ndim, shape);   // keep everything: nothing reused
    gb_tensor *t = gb_tensor_shell(&g->arena, ndim, shape);
    if (!t) return NULL;
    size_t bytes = (t->numel ? (size_t)t->numel : 1) * sizeof(float);
    if (take_slot(g, t, bytes, -2, reuse) != GB_OK) return NULL;
    if (g->measuring) return t;   // data NULL: no kernel runs
    t->data = planned(g, t->slot, 0, bytes);
    if (!t->data) t->data = gb_arena_alloc_uninit(&g->arena, bytes);
    if (!t->data) { gb_set_error(GB_ERR_NOMEM, "out of memory for %d floats", t->numel); return NULL; }
    return t;
}

gb_tensor *gb_graph_tensor(gb_graph *g, int ndim, const int *shape) { return step_tensor(g, ndim, shape, NULL); }

gb_tensor *gb_graph_tensor_reuse(gb_graph *g, int ndim, const int *shape, gb_tensor *x) {
    return step_tensor(g, ndim, shape, x);
}

gb_tensor *gb_graph_view(gb_graph *g, gb_tensor *x, int ndim, const int *shape) {
    gb_tensor *t = gb_arena_alloc(&g->arena, sizeof *t);
    if (!t) { gb_set_error(GB_ERR_NOMEM, "out of memory for a view"); return NULL; }
    t->ndim = ndim;
    t->numel = 1;
    for (int d = 0; d < ndim; d++) t->numel *= (t->shape[d] = shape[d]);
    GB_ASSERT(t->numel == x->numel, "a view keeps the number of elements");
    t->data = x->data;
    // A view's uses are uses of its base's block.
    int base = g->plan && g->measuring && x->slot ? g->plan->data_block[x->slot - 1] : -1;
    if (take_slot(g, t, 0, base, NULL) != GB_OK) return NULL;
    return t;
}

void gb_graph_keep(gb_graph *g, gb_tensor *t) {
    if (g->plan && g->measuring && t->slot) gb_plan_use(g->plan, g->plan->data_block[t->slot - 1], GB_PLAN_END);
}

// A planned run's clock, the measuring pass's: one tick per op recorded (or
// not) and per backward node. In the sanitizer build, the blocks whose last
// reader ran at this tick become NaNs: a read the plan did not foresee (a
// tensor used after the plan let its bytes go) shows in the results.
static void tick_done(gb_graph *g) {
    if (!g->plan || g->measuring) return;
    g->tick++;
#ifdef GB_POISON_BUFFERS
    const gb_plan *p = g->plan;
    for (int i = 0; i < p->n_blocks && p->valid && !g->missed; i++) {
        const gb_plan_block *b = &p->blocks[i];
        if (b->alias < 0 && b->last == g->tick) memset(g->act + b->offset, 0xff, b->bytes);
    }
#endif
}

// The measuring pass's side of gb_graph_record: the op that just ran reads
// its inputs now, and a recorded node keeps what its backward reads.
static void measure_record(gb_graph *g, const gb_op_def *op, gb_tensor *out, gb_tensor *const *inputs,
                           int n_inputs, int recorded) {
    gb_plan *p = g->plan;
    g->tick++;
    for (int i = 0; i < n_inputs; i++) {
        int b = inputs[i]->slot ? p->data_block[inputs[i]->slot - 1] : -1;
        gb_plan_use(p, b, g->tick);
        if (recorded && b >= 0 && !(op->unread & GB_UNREAD_INPUT(i))) p->blocks[b].pending++;
    }
    int b = out->slot ? p->data_block[out->slot - 1] : -1;
    if (recorded && b >= 0 && !(op->unread & GB_UNREAD_OUTPUT)) p->blocks[b].pending++;
}

gb_node *gb_graph_record(gb_graph *g, const gb_op_def *op, gb_tensor *out,
                         gb_tensor *const *inputs, int n_inputs, const gb_op_params *p) {
    GB_ASSERT(n_inputs >= 1 && n_inputs <= GB_MAX_INPUTS, "%s: %d inputs", op->name, n_inputs);
    OP_TIME(g, "fwd", op, inputs[0], out);
    int any = 0;
    for (int i = 0; i < n_inputs; i++) any |= gb_needs_grad(inputs[i]);
    if (!g->grad_enabled || !any) {                 // nothing to differentiate: no node
        if (g->measuring) measure_record(g, op, out, inputs, n_inputs, 0);
        tick_done(g);
        return NULL;
    }
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
    if (g->measuring) measure_record(g, op, out, inputs, n_inputs, 1);
    tick_done(g);
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
    const size_t bytes = (size_t)(n ? n : 1) * sizeof(float);
    float *p = NULL;
    if (g->plan && g->leaf_arena && gb_is_leaf(t) && (t->flags & GB_REQUIRES_GRAD) && !t->grad) {
        // A parameter without .grad: its flow is its .grad (-0 + flow == flow,
        // bit for bit), so no second buffer and no copy at AccumulateGrad.
        p = t->grad = gb_arena_alloc_uninit(g->leaf_arena, bytes);
    } else {
        if (g->plan && t->slot) p = planned(g, t->slot, 1, bytes);
        if (!p) p = gb_arena_alloc_uninit(&g->arena, bytes);
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

// The measuring pass's backward: the nodes backward will run, in its order,
// one tick each. A node reads its output's flow and what it saved, and makes
// a flow for each input that needs a gradient (a parameter's is its .grad,
// outside the plan); the output's flow dies with the node.
static gb_status measure_backward(gb_graph *g, gb_tensor *root) {
    gb_plan *p = g->plan;
    int *flow_block = p->flow_block;
#define FLOW_OF(t) ((t)->slot ? flow_block[(t)->slot - 1] : -1)
    if (root->slot && (flow_block[root->slot - 1] = gb_plan_block_new(p, (size_t)root->numel * 4, g->tick + 1, -1)) < 0)
        return gb_set_error(GB_ERR_NOMEM, "out of memory for a plan");
    if (!gb_plan_nodes(p, g->n_nodes)) return gb_set_error(GB_ERR_NOMEM, "out of memory for a plan");
    for (int i = g->n_nodes - 1; i >= 0; i--) {
        gb_node *node = g->nodes[i];
        if (!node->mark || FLOW_OF(node->output) < 0) continue;
        const int tick = ++g->tick;
        gb_plan_use(p, FLOW_OF(node->output), tick);
        size_t scratch = node->op->backward_scratch ? node->op->backward_scratch(node) : 0;
        if (scratch) {
            if ((p->node_scratch[i] = gb_plan_block_new(p, scratch, tick, -1)) < 0)
                return gb_set_error(GB_ERR_NOMEM, "out of memory for a plan");
            gb_plan_use(p, p->node_scratch[i], tick);
        }
        for (int k = 0; k < node->n_inputs; k++) {
            gb_tensor *x = node->inputs[k];
            int b = x->slot ? p->data_block[x->slot - 1] : -1;
            if (b >= 0 && !(node->op->unread & GB_UNREAD_INPUT(k))) { p->blocks[b].pending--; gb_plan_use(p, b, tick); }
            if (!gb_needs_grad(x) || !x->slot) continue;
            int reuse = k == 0 && node->op->flow_in_place ? FLOW_OF(node->output) : -1;
            if (FLOW_OF(x) < 0 && (flow_block[x->slot - 1] = gb_plan_block_new(p, (size_t)x->numel * 4, tick, reuse)) < 0)
                return gb_set_error(GB_ERR_NOMEM, "out of memory for a plan");
            gb_plan_use(p, FLOW_OF(x), tick);
        }
        int b = node->output->slot ? p->data_block[node->output->slot - 1] : -1;
        if (b >= 0 && !(node->op->unread & GB_UNREAD_OUTPUT)) { p->blocks[b].pending--; gb_plan_use(p, b, tick); }
    }
#undef FLOW_OF
    return GB_OK;
}

gb_status gb_backward(gb_graph *g, gb_tensor *root, const float *gradient, int n_gradient,
                      int retain_graph, gb_arena *leaf_arena) {
    mark_reachable(g, root);
    GB_TRY(check_backward_args(g, root, gradient, n_gradient));
    if (g->measuring) return measure_backward(g, root);

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
        g->running = i;
        OP_CLOCK_START();
        node->op->backward(node, g);
        OP_TIME(g, "bwd", node->op, node->inputs[0], node->output);
        g->running = -1;
        tick_done(g);
        node->ran = 1;
        g->n_backward_run++;
        if (!retain_graph) node->freed = 1;
    }
    g->leaf_arena = NULL;
    if (g->out_of_memory) return gb_set_error(GB_ERR_NOMEM, "out of memory in backward");

    // AccumulateGrad for every leaf the flow reached (each leaf once, even
    // when several nodes use it: their contributions already summed in flow).
    OP_CLOCK_START();
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
#ifdef GB_PROFILE_PASSES
    gb_pool_passes_add("op bwd AccumulateGrad", gb_now_ms() - op_clock);
#endif
    return GB_OK;
}

// --- planned steps ----------------------------------------------------------------

// The cached plan for key, or the least recently used one emptied for it.
static gb_plan *plan_for(gb_graph *g, uint64_t key) {
    gb_plan *lru = &g->plans[0];
    for (int i = 0; i < GB_GRAPH_PLANS; i++) {
        gb_plan *p = &g->plans[i];
        if (p->valid && p->key == key) return p;
        if (!p->valid || (lru->valid && p->used < lru->used)) lru = p;
    }
    gb_plan_clear(lru, key);
    return lru;
}

// The arena grows to the largest plan it has served (freed first, so that
// the heap can give the same bytes back).
static gb_status arena_fit(gb_graph *g, size_t bytes) {
    if (bytes <= g->act_bytes) return GB_OK;
    free(g->act);
    g->act_bytes = 0;
    g->act = aligned_alloc(64, (bytes + 63) & ~(size_t)63);
    if (!g->act) return gb_set_error(GB_ERR_NOMEM, "out of memory for a step of %zu bytes", bytes);
    g->act_bytes = bytes;
    return GB_OK;
}

static gb_status measure(gb_graph *g, gb_plan *p, gb_graph_body body, void *ctx) {
    gb_graph_reset(g);
    g->plan = p;
    g->measuring = 1;
    gb_status st = body(g, ctx);
    g->measuring = 0;
    if (st == GB_OK) st = gb_plan_finish(p);
    if (st == GB_OK) st = arena_fit(g, p->total);
    return st;
}

gb_status gb_graph_run_planned(gb_graph *g, uint64_t key, gb_graph_body body, void *ctx) {
    gb_plan *p = plan_for(g, key);
    gb_status st = p->valid ? GB_OK : measure(g, p, body, ctx);
    if (st == GB_OK) {
        p->used = ++g->plan_clock;
        gb_graph_reset(g);
        g->plan = p;
        g->missed = 0;
        g->act_peak = p->total;
        st = body(g, ctx);
        if (g->missed) p->valid = 0;   // measure again next time
    }
    if (st != GB_OK) p->valid = 0;
    g->plan = NULL;
    g->measuring = 0;
    return st;
}
