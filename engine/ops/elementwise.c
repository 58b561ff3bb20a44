// elementwise.c: the two shapes of op most files here share.
//   unary   y[i] = f(x[i])                       (output shaped like x)
//   binary  z[i] = f(x[bx(i)], y[by(i)])         (output broadcast from x and y)
// Each op keeps its own backward next to its forward; only the loop is shared.
#include "gb_ops.h"

#include "../core/gb_broadcast.h"

gb_status gb_unary_apply(gb_graph *g, const gb_op_def *op, gb_unary_fn f, gb_tensor *x,
                         const gb_op_params *p, gb_tensor **out) {
    gb_tensor *y = gb_graph_tensor(g, x->ndim, x->shape);
    if (!y) return GB_ERR_NOMEM;
    for (int i = 0; i < x->numel && !gb_graph_measuring(g); i++) y->data[i] = f(x->data[i]);
    gb_graph_record(g, op, y, &x, 1, p);
    *out = y;
    return GB_OK;
}

gb_status gb_binary_apply(gb_graph *g, const gb_op_def *op, gb_binary_fn f, gb_tensor *x,
                          gb_tensor *y, const gb_op_params *p, gb_tensor **out) {
    gb_bcast bc;
    GB_TRY(gb_bcast_init(&bc, x, y));
    gb_tensor *z = gb_graph_tensor(g, bc.ndim, bc.shape);
    if (!z) return GB_ERR_NOMEM;
    int idx[GB_MAX_DIMS] = { 0 }, ox = 0, oy = 0;
    for (int i = 0; i < bc.numel && !gb_graph_measuring(g); i++) {   // the plan pass runs no loop
        z->data[i] = f(x->data[ox], y->data[oy]);
        gb_bcast_next(&bc, idx, &ox, &oy);
    }
    gb_tensor *inputs[2] = { x, y };
    if (op) gb_graph_record(g, op, z, inputs, 2, p);
    *out = z;
    return GB_OK;
}

gb_status gb_wrap_dim(int dim, int ndim, int *wrapped) {
    int n = ndim > 0 ? ndim : 1;   // a 0-d tensor accepts dim 0 and -1, as in PyTorch
    if (dim < -n || dim >= n)
        return gb_set_error(GB_ERR_INDEX,
                            "Dimension out of range (expected to be in range of [%d, %d], but got %d)",
                            -n, n - 1, dim);
    *wrapped = dim < 0 ? dim + n : dim;
    return GB_OK;
}
