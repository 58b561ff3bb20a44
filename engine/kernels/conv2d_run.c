// conv2d_run.c: a planned convolution runs (conv2d_plan.h): the plan says
// which kernels, the weights object holds what they read, the caller gives
// the buffers and p->*_scratch_bytes of scratch. No decisions here.
#include "conv2d_plan.h"

#include "../core/gb_status.h"

void gb_conv2d_run_forward(const gb_conv2d_plan *p, const gb_conv2d_weights *wt, const float *w, const float *x,
                           float *y, void *scratch) {
    gb_conv2d_run_forward_epilogue(p, wt, w, x, y, scratch, NULL);
}

void gb_conv2d_run_forward_epilogue(const gb_conv2d_plan *p, const gb_conv2d_weights *wt, const float *w,
                                    const float *x, float *y, void *scratch, const gb_conv2d_epilogue *e) {
    const gb_conv2d_shape *s = &p->s;
    char *sc = scratch;
    switch (p->fwd) {
    case GB_CONV2D_WINOGRAD: {
        if (p->fwd_rows) {   // transient U made chunk by chunk inside
            gb_conv2d_winograd_forward_rows(s, p->fwd_tile, p->fwd_rows, w, x, y, sc, e);
            break;
        }
        const float *u = p->fwd_u_bytes ? (const float *)sc : wt->fwd.u;
        if (p->fwd_u_bytes) {   // transient: U made for this call, in front of the kernel's scratch
            gb_conv2d_winograd_transform_weights(s, p->fwd_tile, w, (float *)sc);
            sc += p->fwd_u_bytes;
        }
        GB_ASSERT(u && (p->fwd_u_bytes || wt->fwd.layout == p->fwd_tile), "conv2d: U not prepared");
        gb_conv2d_winograd_forward_epilogue(s, p->fwd_tile, u, x, y, sc, e);
        break;
    }
    case GB_CONV2D_IM2COL_PACKED:
        GB_ASSERT(wt->fwd.u && wt->fwd.layout == 0, "conv2d: packed weights not prepared");
        gb_conv2d_forward_packed_epilogue(s, wt->fwd.u, x, y, sc, e);
        break;
    default:
        gb_conv2d_forward(s, x, w, y, sc);
        if (e) gb_conv2d_epilogue_planes(e, s->N, s->OC, s->OH * s->OW, y);
    }
}

void gb_conv2d_run_backward(const gb_conv2d_plan *p, const gb_conv2d_weights *wt, const float *x, const float *w,
                            const float *dy, float *dx, int store_dx, float *dw, int store_dw, void *scratch) {
    const gb_conv2d_shape *s = &p->s;
    GB_ASSERT((!store_dx || gb_conv2d_plan_stores(p->dx)) && (!store_dw || gb_conv2d_plan_stores(p->dw)),
              "conv2d: im2col's backward adds");
    // The parts run in turn in one scratch: dx first (its transient U in
    // front of its kernel's scratch), then dw and im2col's from the start,
    // over a U that dx no longer needs (plan_sizes sizes it so).
    if (p->dx == GB_CONV2D_WINOGRAD && p->dx_rows) {
        gb_conv2d_winograd_backward_dx_rows(s, p->dx_tile, p->dx_rows, w, dy, dx, store_dx, scratch);
    } else if (p->dx == GB_CONV2D_WINOGRAD) {
        char *sc = scratch;
        const float *u_dx = p->dx_u_bytes ? (const float *)sc : wt->dx.u;
        if (p->dx_u_bytes) {
            gb_conv2d_winograd_transform_weights_dx(s, p->dx_tile, w, (float *)sc);
            sc += p->dx_u_bytes;
        }
        GB_ASSERT(u_dx, "conv2d: dx's U not prepared");
        gb_conv2d_winograd_backward_dx(s, p->dx_tile, u_dx, dy, dx, store_dx, sc);
    }
    if (p->dw == GB_CONV2D_WINOGRAD)
        gb_conv2d_winograd_backward_dw(s, p->dw_tile, p->dw_rows ? p->dw_rows : s->OC, x, dy, dw, store_dw, scratch);
    float *im2col_dx = p->dx == GB_CONV2D_IM2COL ? dx : NULL, *im2col_dw = p->dw == GB_CONV2D_IM2COL ? dw : NULL;
    if (im2col_dx || im2col_dw) gb_conv2d_backward(s, x, w, dy, im2col_dx, im2col_dw, scratch);
}
