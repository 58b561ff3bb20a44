// tensor.c: making tensors and naming their shapes.
#include <stdio.h>
#include <string.h>

#include "gb_tensor.h"

gb_tensor *gb_tensor_shell(gb_arena *arena, int ndim, const int *shape) {
    GB_ASSERT(ndim >= 0 && ndim <= GB_MAX_DIMS, "ndim %d", ndim);
    gb_tensor *t = gb_arena_alloc(arena, sizeof *t);
    if (!t) { gb_set_error(GB_ERR_NOMEM, "out of memory for a tensor"); return NULL; }
    t->ndim = ndim;
    size_t numel = 1;
    for (int d = 0; d < ndim; d++) {
        GB_ASSERT(shape[d] >= 0, "negative dimension %d", shape[d]);
        t->shape[d] = shape[d];
        numel *= (size_t)shape[d];
    }
    if (numel > (size_t)1 << 30) {
        gb_set_error(GB_ERR_NOMEM, "a tensor of %zu elements is too large", numel);
        return NULL;
    }
    t->numel = (int)numel;
    return t;
}

gb_tensor *gb_tensor_new(gb_arena *arena, int ndim, const int *shape) {
    gb_tensor *t = gb_tensor_shell(arena, ndim, shape);
    if (!t) return NULL;
    t->data = gb_arena_alloc(arena, (t->numel ? (size_t)t->numel : 1) * sizeof(float));
    if (!t->data) { gb_set_error(GB_ERR_NOMEM, "out of memory for %d floats", t->numel); return NULL; }
    return t;
}

gb_tensor *gb_tensor_scalar(gb_arena *arena, float value) {
    gb_tensor *t = gb_tensor_new(arena, 0, NULL);
    if (t) t->data[0] = value;
    return t;
}

int gb_shape_equal(const gb_tensor *a, const gb_tensor *b) {
    if (a->ndim != b->ndim) return 0;
    for (int d = 0; d < a->ndim; d++)
        if (a->shape[d] != b->shape[d]) return 0;
    return 1;
}

const char *gb_shape_str(int ndim, const int *shape, char *buf, size_t cap) {
    size_t off = (size_t)snprintf(buf, cap, "[");
    for (int d = 0; d < ndim && off < cap; d++)
        off += (size_t)snprintf(buf + off, cap - off, d ? ", %d" : "%d", shape[d]);
    if (off < cap) snprintf(buf + off, cap - off, "]");
    return buf;
}
