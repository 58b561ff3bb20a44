// gb_plan.h: the memory plan of a model's step. Every activation and every
// flow (dL/d activation) of the step is a *block* with a lifetime in ticks
// (one tick per op that runs, forward then backward): made by the op at
// `first`, last read at `last`. gb_plan_finish gives each block an offset in
// ONE arena so that blocks alive at the same time never share a byte, as
// ggml-alloc does:
//   - a block a backward node will read (a saved tensor: gb_op_def.unread
//     says which are not) lives until that node's backward has run;
//   - a block nobody reads (the logits, the loss) lives to the end;
//   - an op that may work in place (ReLU, BatchNorm, add: elementwise) names
//     an input as `reuse_of`; when that op is the input's last reader, the
//     output takes over the input's memory (PyTorch's inplace=True);
//   - offsets: largest block first, each at the lowest offset that does not
//     overlap a placed block whose lifetime meets its own.
// The graph (graph.c) measures a step once per key in a pass that runs no
// kernel (gb_graph_run_planned), then every run with the same key takes its
// memory from the arena by the plan: no malloc inside a step.
// Guarded by tests/native/test_plan.c (no two live blocks overlap; in-place
// only at a last read) and test_nn_forward.c (bit-identical to the
// keep-everything graph, with every planned block poisoned).
#ifndef GB_PLAN_H
#define GB_PLAN_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "gb_status.h"

#define GB_PLAN_END INT_MAX   // a lifetime that lasts to the end of the step

typedef struct gb_plan_block {
    size_t bytes;             // a multiple of 64
    int first, last;          // ticks: made at first, last read at last
    int reuse_of;             // a block whose memory this one may take over, or -1
    int alias;                // after gb_plan_finish: the block whose bytes it shares, or -1
    int pending;              // recorded nodes that save it and whose backward was not measured
    size_t offset;            // after gb_plan_finish (an alias: its root's)
} gb_plan_block;

typedef struct gb_plan {
    uint64_t key;             // what the step was (gb_graph_run_planned's caller says)
    int valid;                // measured and finished
    unsigned long used;       // for the graph's cache: the last time it ran
    gb_plan_block *blocks;
    int n_blocks, cap_blocks;
    int *data_block, *flow_block;   // per step tensor (slot - 1): its blocks, -1 for none
    int n_tensors, cap_tensors;
    int *scratch_block;       // per forward scratch request, in order: its block
    int n_scratch, cap_scratch;
    int *node_scratch;        // per tape node: its backward's work area block, -1 for none
    int n_nodes;
    size_t total;             // the arena bytes the plan needs
} gb_plan;

void gb_plan_clear(gb_plan *p, uint64_t key);   // empty, keeps its arrays
void gb_plan_free(gb_plan *p);
// A new block of `bytes` made at tick `first`; -1 when out of memory.
int gb_plan_block_new(gb_plan *p, size_t bytes, int first, int reuse_of);
// Block `b` (may be -1: nothing) is read at `tick`.
void gb_plan_use(gb_plan *p, int b, int tick);
// A new step tensor's slot (1-based: 0 means "not a step tensor"); 0 when out of memory.
int gb_plan_tensor_new(gb_plan *p, int data_block);
// The next scratch request is block b (lives for one op); 0 when out of memory.
int gb_plan_scratch_new(gb_plan *p, int b);
// Room for n tape nodes' backward work areas (all -1); 0 when out of memory.
int gb_plan_nodes(gb_plan *p, int n);
// Closes the lifetimes, merges in-place outputs into their inputs, places
// every block. GB_ERR_NOMEM when out of memory.
gb_status gb_plan_finish(gb_plan *p);
// The block whose bytes b uses (itself unless it was merged in place).
int gb_plan_root(const gb_plan *p, int b);
// 1 and the two blocks when two blocks alive at the same tick share bytes
// (a bug; tests call it), else 0.
int gb_plan_find_overlap(const gb_plan *p, int *a, int *b);
// Bytes the blocks would take with nothing reused (every block to the end).
size_t gb_plan_bytes_unshared(const gb_plan *p);

#endif
