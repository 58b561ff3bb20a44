// eq.c: z = (x == y), a bool tensor. Comparisons have no derivative, so no
// node is recorded and the result never requires grad (as in PyTorch).
#include "gb_ops.h"

static float eq_f(float x, float y) { return x == y ? 1.0f : 0.0f; }

gb_status gb_eq(gb_graph *g, gb_tensor *x, gb_tensor *y, gb_tensor **out) {
    GB_TRY(gb_binary_apply(g, NULL, eq_f, x, y, NULL, out));
    (*out)->flags = GB_BOOL;
    return GB_OK;
}
