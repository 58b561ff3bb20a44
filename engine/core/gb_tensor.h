// gb_tensor.h: tensors, the tape (autograd graph) and the op contract.
//
// A tensor is a float32 array of up to 4 dimensions, contiguous, row-major
// (the last dimension varies fastest), shapes as in PyTorch (NCHW for images).
// Tensors never own memory: an arena does (a graph's, a model's).
//
// The tape records each op as it runs (eager). Backward walks the tape in
// reverse and lets each node add its contribution to its inputs' gradients:
// the chain rule, one node at a time.
#ifndef GB_TENSOR_H
#define GB_TENSOR_H

#include <stddef.h>
#include <stdint.h>

#include "gb_arena.h"
#include "gb_plan.h"
#include "gb_status.h"

#define GB_MAX_DIMS 4
#define GB_MAX_INPUTS 3   // batchnorm: x, weight, bias

typedef struct gb_node gb_node;
typedef struct gb_graph gb_graph;
typedef struct gb_sb gb_sb;

enum gb_tensor_flags {
    GB_REQUIRES_GRAD = 1u << 0,  // the user asked for .grad (a leaf parameter)
    GB_NEEDS_GRAD = 1u << 1,     // some input needs a gradient: backward must reach it
    GB_BOOL = 1u << 2,           // values are 0/1 and print as False/True
};

typedef struct gb_tensor {
    int ndim;                 // 0 (a scalar) .. 4
    int shape[GB_MAX_DIMS];
    int numel;
    float *data;
    float *grad;              // PyTorch's .grad: leaves only, accumulated across backwards
    float *flow;              // dL/d(this tensor) during the current backward
    unsigned flags;
    gb_node *grad_fn;         // the node that made it; NULL for leaves and constants
    const char *name;         // the user's name for a leaf ("a"), else NULL
    int mark;                 // scratch for graph walks
    unsigned version;         // bumped when the values change outside the tape (an
                              // optimizer step, a load): caches derived from them check it
    int slot;                 // 1 + its index among the step's tensors in a planned
                              // step (gb_plan's tables); 0 for any other tensor
} gb_tensor;

static inline int gb_needs_grad(const gb_tensor *t) { return (t->flags & GB_NEEDS_GRAD) != 0; }
static inline int gb_is_leaf(const gb_tensor *t) { return t->grad_fn == NULL; }

// Everything an op's backward may need beyond its inputs and output.
typedef struct gb_op_params {
    double scalar;            // exponent of pow, other of rsub, alpha of add/sub...
    int dim;                  // reduction dimension (already made non-negative)
    int in_shape[GB_MAX_DIMS];// shape before a reduction or a view
    int in_ndim;
    int stride, padding, kernel; // convolution and pooling geometry
    int training;             // batchnorm: batch statistics (1) or running ones (0)
    void *saved;              // op-specific values kept for backward (graph arena):
                              // argmax of maxpool, mean/invstd of batchnorm, targets
} gb_op_params;

// What an op is: PyTorch's name for its backward node and the two halves.
typedef struct gb_op_def {
    const char *name;                         // "MulBackward0"
    // Adds this node's part of the chain rule into each input's flow.
    void (*backward)(gb_node *node, gb_graph *g);
    // For the graph view: writes the saved values (by PyTorch's attribute
    // names) when locals is 0, the local derivatives when it is 1.
    void (*describe)(const gb_node *node, gb_sb *json, int locals);
    // Does backward read saved tensors? Then a second backward without
    // retain_graph is an error, as in PyTorch (add/sub/neg/sum save none).
    int saves_tensors;
    // Which values backward does NOT read (bit k: input k, GB_UNREAD_OUTPUT:
    // the output): a planned step lets their memory go after their last
    // forward reader (gb_plan.h). 0, the default, keeps everything.
    unsigned unread;
    // The work area backward asks gb_graph_scratch for (the largest, when it
    // asks several times), so that a planned step places it in the arena;
    // NULL: none. Must not change anything.
    size_t (*backward_scratch)(const gb_node *node);
    // Backward makes input 0's flow, when new, element by element from the
    // output's flow (read before written, gb_flow_for_store): a planned step
    // may give both the same bytes (ReLU, BatchNorm).
    int flow_in_place;
} gb_op_def;

#define GB_UNREAD_INPUT(k) (1u << (k))
#define GB_UNREAD_OUTPUT (1u << GB_MAX_INPUTS)

struct gb_node {
    const gb_op_def *op;
    gb_tensor *output;
    gb_tensor *inputs[GB_MAX_INPUTS];
    int n_inputs;
    gb_op_params p;
    int freed;                // a backward without retain_graph went through it
    int ran;                  // the last backward ran it (a step's cost: api's step info)
    int mark;                 // scratch for graph walks
    const char *text;         // the source text that made it ("3*a**3")
};

// The tape and the memory of one evaluation (or one training step).
//
// One rule for memory, two uses of it. Every output and every flow of a
// graph comes from the graph's memory and lives until the graph is reset:
//   - a lesson's graph keeps everything (the page shows every value and
//     gradient): each tensor is its own piece of the graph's arena, nothing
//     is reused;
//   - a model's step runs planned (gb_graph_run_planned): a first pass that
//     runs no kernel measures each tensor's first and last use and what
//     backward reads (gb_plan.h), then the step takes each tensor's memory at
//     its offset in one activation arena, shared by tensors that are never
//     alive together. A frozen prefix saves nothing, so it runs in a few
//     blocks; a parameter's flow is its .grad when it had none.
#define GB_GRAPH_PLANS 4   // plans kept (one per key: shape, what trains, mode)

struct gb_graph {
    gb_arena arena;           // tensors, nodes, saved values (and, unplanned, outputs and flows)
    gb_node **nodes;          // in the order they ran (a topological order)
    int n_nodes, cap_nodes;
    int grad_enabled;         // 0 inside torch.no_grad()
    int out_of_memory;        // a flow could not be allocated during backward
    int n_backward_run;       // nodes the last backward ran (those with .ran set)
    // A planned step (gb_graph_run_planned):
    gb_plan plans[GB_GRAPH_PLANS];
    unsigned long plan_clock;
    gb_plan *plan;            // the plan being measured or followed; NULL: keep everything
    int measuring;            // the plan pass: ops record shapes and uses, run no kernel
    int tick;                 // ops run since the reset (gb_plan's time)
    int n_slots;              // step tensors made since the reset
    int n_scratch;            // work areas asked for since the reset
    int running;              // the tape index of the node whose backward runs, or -1
    int missed;               // a request the plan did not foresee: measure again next time
    unsigned char *act;       // the activation arena (64-byte aligned)
    size_t act_bytes;
    size_t act_peak;          // the arena bytes the plans run since the reset used
    void *scratch;            // one work area, reused by every op (gb_graph_scratch)
    size_t scratch_bytes;
    gb_arena *leaf_arena;     // during a planned backward: where .grad lives
};

// --- tensors -----------------------------------------------------------------

// A new zero-filled tensor from `arena`; NULL (with an error set) if memory runs out.
gb_tensor *gb_tensor_new(gb_arena *arena, int ndim, const int *shape);
// The same without data (data NULL): for a caller that supplies the numbers.
gb_tensor *gb_tensor_shell(gb_arena *arena, int ndim, const int *shape);
gb_tensor *gb_tensor_scalar(gb_arena *arena, float value);   // 0-d constant
int gb_shape_equal(const gb_tensor *a, const gb_tensor *b);
// "[2, 3]" as torch.Size prints it, into buf.
const char *gb_shape_str(int ndim, const int *shape, char *buf, size_t cap);

// --- the tape -----------------------------------------------------------------

void gb_graph_init(gb_graph *g);
void gb_graph_reset(gb_graph *g);   // forget every node and output (and the peak)
void gb_graph_free(gb_graph *g);

// Records `out = op(inputs)` if grad mode is on and some input needs a grad
// (the output then needs one too: frozen inputs never set the flag, so
// backward never enters a frozen prefix). The caller has already computed
// out->data. Returns the node, or NULL when nothing was recorded.
gb_node *gb_graph_record(gb_graph *g, const gb_op_def *op, gb_tensor *out,
                         gb_tensor *const *inputs, int n_inputs, const gb_op_params *p);

// root.backward(gradient, retain_graph). `gradient` may be NULL for a 0-d root.
gb_status gb_backward(gb_graph *g, gb_tensor *root, const float *gradient, int n_gradient,
                      int retain_graph, gb_arena *leaf_arena);

// The flow buffer of `t` for this backward, made on first use and filled with -0.0.
float *gb_flow(gb_graph *g, gb_tensor *t);
// The same for an op that can store every element instead of adding it: a
// flow made by this call is left unfilled and *store = 1 (the op writes v
// where it would add -0 + v, the same bits, and skips a pass over memory);
// a flow that exists comes back with *store = 0 (the op adds).
float *gb_flow_for_store(gb_graph *g, gb_tensor *t, int *store);

// An output tensor for an op constructor: zero-filled from the arena, or in
// a planned step at its planned offset with undefined contents (the op
// writes it all). While measuring, its data is NULL: the op records and
// returns without running its kernel (gb_graph_measuring).
gb_tensor *gb_graph_tensor(gb_graph *g, int ndim, const int *shape);
// The same for an elementwise op that may write over `x` (ReLU, BatchNorm,
// add): in a planned step the output takes x's memory when this op is x's
// last reader; otherwise a new tensor.
gb_tensor *gb_graph_tensor_reuse(gb_graph *g, int ndim, const int *shape, gb_tensor *x);
// A tensor of another shape over the same numbers (a view: no copy).
gb_tensor *gb_graph_view(gb_graph *g, gb_tensor *x, int ndim, const int *shape);
// The caller will read t after the ops (the logits, the loss): in a planned
// step it lives to the end.
void gb_graph_keep(gb_graph *g, gb_tensor *t);
// The plan pass: ops must not run kernels or change state (gb_graph_tensor).
static inline int gb_graph_measuring(const gb_graph *g) { return g->measuring; }

// Runs body(g, ctx) planned: the first time for `key` (anything that changes
// the step's tensors or what backward reads: shapes, which parameters train,
// train/eval, grad mode) body runs once measuring (it must change nothing
// then but through the ops), the plan is made, and then body runs for real
// with its memory from the plan; later runs with the same key reuse plan and
// arena. Resets the graph before each pass.
typedef gb_status (*gb_graph_body)(gb_graph *g, void *ctx);
gb_status gb_graph_run_planned(gb_graph *g, uint64_t key, gb_graph_body body, void *ctx);
// A work area of `bytes` (64-byte aligned, contents undefined) for the op
// that is running; the next call may reuse or move it. NULL when out of memory.
// In a planned step a forward op's work area is a block of the plan (asked
// for before the op checks gb_graph_measuring), a backward's the graph's one
// heap area.
void *gb_graph_scratch(gb_graph *g, size_t bytes);
// High-water mark of the step's memory since the last reset: the arena, the
// planned activation arena, the scratch (kept across resets, counted whole).
size_t gb_graph_peak_bytes(const gb_graph *g);

#endif
