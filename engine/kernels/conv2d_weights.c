// conv2d_weights.c: a layer's transformed weights (gb_conv2d_weights,
// conv2d_plan.h), kept while the weights stay the same tensor at the same
// version, remade when they change (an optimizer step) or the layout does
// (another tile), freed when the plan makes them per call instead
// (gb_conv2d_plan_transient says when). The one malloc of the kernels layer:
// a kept copy lives as long as its layer, not one step.
#include "conv2d_plan.h"

#include <stdlib.h>

typedef void (*weights_transform)(const gb_conv2d_shape *s, int layout, const float *w, float *u);

// The copy for (src, version, layout), remade if it is not that one; NULL
// when memory runs out.
static const float *kept(gb_conv2d_kept *t, const gb_conv2d_shape *s, const float *w, const void *src,
                         unsigned version, size_t floats, int layout, weights_transform transform) {
    if (t->u && t->src == src && t->version == version && t->layout == layout) return t->u;
    if (floats > t->floats) {
        free(t->u);
        t->u = aligned_alloc(64, (floats * sizeof(float) + 63) & ~(size_t)63);   // whole cache lines
        t->floats = t->u ? floats : 0;
        if (!t->u) return NULL;
    }
    transform(s, layout, w, t->u);
    t->src = src;
    t->version = version;
    t->layout = layout;
    return t->u;
}

static void drop(gb_conv2d_kept *t) {
    free(t->u);
    *t = (gb_conv2d_kept){ 0 };
}

static void pack_weights(const gb_conv2d_shape *s, int layout, const float *w, float *packed) {
    (void)layout;
    gb_conv2d_pack_weights(s, w, packed);
}

void gb_conv2d_weights_prepare_forward(gb_conv2d_weights *wt, gb_conv2d_plan *p, const float *w, const void *src,
                                       unsigned version) {
    const gb_conv2d_shape *s = &p->s;
    if (p->transient) { drop(&wt->fwd); return; }
    if (p->fwd == GB_CONV2D_WINOGRAD) {
        // Winograd's U: one size fits the forward and the dx layout.
        if (!kept(&wt->fwd, s, w, src, version, gb_conv2d_winograd_weights_floats(s, p->fwd_tile), p->fwd_tile,
                  gb_conv2d_winograd_transform_weights))
            gb_conv2d_plan_without_kept_forward(p);
    } else if (p->fwd == GB_CONV2D_IM2COL_PACKED) {
        if (!kept(&wt->fwd, s, w, src, version, gb_conv2d_packed_weights_floats(s), 0, pack_weights))
            gb_conv2d_plan_without_kept_forward(p);
    }
}

void gb_conv2d_weights_prepare_backward(gb_conv2d_weights *wt, gb_conv2d_plan *p, const float *w, const void *src,
                                        unsigned version) {
    const gb_conv2d_shape *s = &p->s;
    if (p->dx != GB_CONV2D_WINOGRAD) return;
    if (p->transient) { drop(&wt->dx); return; }
    if (!kept(&wt->dx, s, w, src, version, gb_conv2d_winograd_weights_floats(s, p->dx_tile), p->dx_tile,
              gb_conv2d_winograd_transform_weights_dx))
        gb_conv2d_plan_without_kept_dx(p);
}

void gb_conv2d_weights_free(gb_conv2d_weights *wt) {
    drop(&wt->fwd);
    drop(&wt->dx);
}
