// gb_workspace.h: a notebook's worth of state for the autograd lesson:
// named tensors (the leaves a learner makes and the results of expressions),
// the tape that connects them, and the JSON the page draws from.
// Mirrors Python statements one call each:
//   a = torch.tensor([2., 3.], requires_grad=True)   gb_ws_set_tensor
//   Q = 3*a**3 - b**2                                 gb_ws_assign
//   Q.backward(gradient=v, retain_graph=False)        gb_ws_backward
//   a.grad.zero_()                                    gb_ws_zero_grad
#ifndef GB_WORKSPACE_H
#define GB_WORKSPACE_H

#include "../core/gb_sb.h"
#include "../core/gb_tensor.h"

#define GB_WS_MAX_VARS 64
#define GB_WS_MAX_NAME 32
#define GB_WS_MAX_SIZE (1 << 24)      // elements along one dimension of a tensor a learner makes
#define GB_WS_STORE_BLOCK (1u << 16)  // bytes of the store's first arena block (it grows)
#define GB_GRADCHECK_EPS 1e-2         // gb_ws_gradcheck's step when the caller passes eps <= 0
#define GB_GRADCHECK_TOLERANCE 1e-2   // it passes when max_rel_diff <= this

typedef struct gb_var {
    char name[GB_WS_MAX_NAME];
    gb_tensor *t;
    const char *expr;     // the source of an assigned result; NULL for a leaf
    int no_grad;          // assigned under torch.no_grad()
} gb_var;

typedef struct gb_gradcheck {
    int done;
    double max_abs_diff;  // max over leaf elements of |numeric - analytic|
    double max_rel_diff;  // the same relative to max(1, |analytic|)
    double tolerance;     // pass when max_rel_diff <= tolerance
    double eps;           // the central-difference step
} gb_gradcheck;

typedef struct gb_ws {
    gb_arena store;       // leaves, their .grad, names and expression texts
    gb_graph graph;       // the tape and every intermediate
    gb_var vars[GB_WS_MAX_VARS];
    int n_vars;
    gb_gradcheck check;
    gb_sb json;
} gb_ws;

void gb_ws_init(gb_ws *ws);
void gb_ws_destroy(gb_ws *ws);
void gb_ws_reset(gb_ws *ws);

gb_status gb_ws_tensor(gb_ws *ws, const char *name, const float *data, const int *shape,
                       int ndim, int requires_grad);
gb_status gb_ws_eval_assign(gb_ws *ws, const char *name, const char *expr, int no_grad);
gb_status gb_ws_run_backward(gb_ws *ws, const char *name, const float *gradient, int n_gradient,
                             int retain_graph);
gb_status gb_ws_zero_grads(gb_ws *ws);
gb_status gb_ws_run_gradcheck(gb_ws *ws, const char *name, const float *gradient, int n_gradient,
                              double eps);
gb_var *gb_ws_find(gb_ws *ws, const char *name, int len);

// The state as JSON (docs/engine-protocol.md); valid until the next call.
const char *gb_ws_to_json(gb_ws *ws, const char *root);

#endif
