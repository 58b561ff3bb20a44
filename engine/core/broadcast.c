// broadcast.c: see gb_broadcast.h.
#include <string.h>

#include "gb_broadcast.h"

static void strides_over(const gb_tensor *t, const int *shape4, int *stride) {
    // t's dims sit at the right end of the 4 output dims.
    int s = 1;
    for (int d = GB_MAX_DIMS - 1; d >= 0; d--) {
        int td = d - (GB_MAX_DIMS - t->ndim);
        int size = td >= 0 ? t->shape[td] : 1;
        stride[d] = (size == 1 && shape4[d] != 1) ? 0 : s;
        s *= size;
    }
}

gb_status gb_bcast_init(gb_bcast *bc, const gb_tensor *a, const gb_tensor *b) {
    memset(bc, 0, sizeof *bc);
    bc->ndim = a->ndim > b->ndim ? a->ndim : b->ndim;
    for (int k = 0; k < bc->ndim; k++) {
        // k counts from the right: PyTorch names the dimension of the output.
        int da = a->ndim - 1 - k, db = b->ndim - 1 - k;
        int sa = da >= 0 ? a->shape[da] : 1;
        int sb = db >= 0 ? b->shape[db] : 1;
        if (sa != sb && sa != 1 && sb != 1)
            return gb_set_error(GB_ERR_SHAPE,
                                "The size of tensor a (%d) must match the size of tensor b (%d) "
                                "at non-singleton dimension %d",
                                sa, sb, bc->ndim - 1 - k);
        bc->shape[bc->ndim - 1 - k] = sa == 1 ? sb : sa;
    }
    bc->numel = 1;
    for (int d = 0; d < GB_MAX_DIMS; d++) {
        int od = d - (GB_MAX_DIMS - bc->ndim);
        bc->shape4[d] = od >= 0 ? bc->shape[od] : 1;
        bc->numel *= bc->shape4[d];
    }
    strides_over(a, bc->shape4, bc->stride_a);
    strides_over(b, bc->shape4, bc->stride_b);
    return GB_OK;
}
