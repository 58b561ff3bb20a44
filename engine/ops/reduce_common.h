// reduce_common.h: a reduction along one dimension sees the tensor as
// (outer, size, inner): `size` is the reduced dimension, `outer` the product
// of the dimensions before it and `inner` of those after it.
#ifndef GB_REDUCE_COMMON_H
#define GB_REDUCE_COMMON_H

#include "gb_ops.h"

typedef struct { int outer, size, inner; } gb_reduce_view;

static inline gb_reduce_view gb_reduce_view_of(const gb_tensor *x, int dim) {
    gb_reduce_view v = { 1, 1, 1 };
    for (int d = 0; d < x->ndim; d++) {
        if (d < dim) v.outer *= x->shape[d];
        else if (d == dim) v.size = x->shape[d];
        else v.inner *= x->shape[d];
    }
    return v;
}

// out[o, i] = scale * sum_k x[o, k, i], summed in double.
gb_status gb_reduce_dim(gb_graph *g, const gb_op_def *op, gb_tensor *x, int dim, int mean,
                        gb_tensor **out);
// dx[o, k, i] += scale * dy[o, i]: every input element got the same weight.
void gb_reduce_dim_backward(gb_node *node, gb_graph *g, int mean);

#endif
