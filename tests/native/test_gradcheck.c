// test_gradcheck.c: every op's backward against central differences.
// L = Σ op(x) * r with fixed random r, so every output element matters; the
// numeric dL/dx_i = (L(x + h e_i) - L(x - h e_i)) / 2h is summed in double.
#include <math.h>
#include <stdlib.h>

#include "gb_test.h"
#include "layers/gb_layers.h"

typedef gb_status (*build_fn)(gb_graph *g, gb_tensor **in, gb_tensor **out);

// Max pooling is only differentiable away from ties: its test spreads the
// values on a grid (steps of 0.1, shuffled) instead of drawing them.
static int distinct_values;

static unsigned rng = 12345u;
static float uniform(float lo, float hi) {   // xorshift: reproducible everywhere
    rng ^= rng << 13; rng ^= rng >> 17; rng ^= rng << 5;
    return lo + (hi - lo) * (float)(rng % 1000000u) / 1000000.0f;
}

static double loss(gb_graph *g, build_fn f, gb_tensor **in, const float *r, gb_tensor **out) {
    gb_status s = f(g, in, out);
    GB_ASSERT(s == GB_OK, "%s", gb_last_error());
    double L = 0;
    for (int i = 0; i < (*out)->numel; i++) L += (double)(*out)->data[i] * r[i];
    return L;
}

// Inputs: n tensors with the given shapes, values in [lo, hi], all needing grads.
static void check_op(const char *name, build_fn f, int n, const int shapes[][5], float lo, float hi) {
    gb_graph g;
    gb_graph_init(&g);
    gb_arena leaves;
    gb_arena_init(&leaves, 1 << 16);
    gb_tensor *in[GB_MAX_INPUTS];
    for (int k = 0; k < n; k++) {
        in[k] = gb_tensor_new(&leaves, shapes[k][0], shapes[k] + 1);
        for (int i = 0; i < in[k]->numel; i++)
            in[k]->data[i] = distinct_values ? 0.1f * (float)((i * 37) % in[k]->numel) - 1.0f : uniform(lo, hi);
        in[k]->flags |= GB_REQUIRES_GRAD | GB_NEEDS_GRAD;
    }
    gb_tensor *out;
    f(&g, in, &out);
    float *r = malloc(sizeof(float) * (size_t)(out->numel ? out->numel : 1));
    for (int i = 0; i < out->numel; i++) r[i] = uniform(-1, 1);
    gb_graph_reset(&g);
    loss(&g, f, in, r, &out);
    CHECK(gb_backward(&g, out, r, out->numel, 0, &leaves) == GB_OK, "%s: %s", name, gb_last_error());
    for (int k = 0; k < n; k++) {
        for (int i = 0; i < in[k]->numel; i++) {
            float x = in[k]->data[i];
            const float h = 1e-2f;
            gb_graph scratch;
            gb_graph_init(&scratch);
            in[k]->data[i] = x + h;
            double lp = loss(&scratch, f, in, r, &out);
            gb_graph_reset(&scratch);
            in[k]->data[i] = x - h;
            double lm = loss(&scratch, f, in, r, &out);
            gb_graph_free(&scratch);
            in[k]->data[i] = x;
            double numeric = (lp - lm) / ((double)(x + h) - (double)(x - h));
            double analytic = in[k]->grad[i];
            CHECK(fabs(numeric - analytic) <= 2e-3 * (1 + fabs(numeric)), "%s: d/dinput%d[%d]: numeric %.6g, backward %.6g",
                  name, k, i, numeric, analytic);
        }
    }
    free(r);
    gb_graph_free(&g);
    gb_arena_free(&leaves);
}

#define UNARY(fn) static gb_status t_##fn(gb_graph *g, gb_tensor **in, gb_tensor **out) { return gb_##fn(g, in[0], out); }
#define BINARY(fn) static gb_status t_##fn(gb_graph *g, gb_tensor **in, gb_tensor **out) { return gb_##fn(g, in[0], in[1], out); }
UNARY(neg) UNARY(reciprocal) UNARY(exp) UNARY(log) UNARY(sqrt) UNARY(abs) UNARY(sin) UNARY(cos)
UNARY(tanh) UNARY(sigmoid) UNARY(relu) UNARY(sum) UNARY(mean)
BINARY(add) BINARY(sub) BINARY(mul) BINARY(div) BINARY(pow) BINARY(mm) BINARY(mv) BINARY(dot) BINARY(matmul)
static gb_status t_add_self(gb_graph *g, gb_tensor **in, gb_tensor **out) { return gb_add(g, in[0], in[0], out); }   // x + x: one flow, two gradients
static gb_status t_rsub(gb_graph *g, gb_tensor **in, gb_tensor **out) { return gb_rsub(g, in[0], 2.5, out); }
static gb_status t_pow3(gb_graph *g, gb_tensor **in, gb_tensor **out) { return gb_pow_scalar(g, in[0], 3, out); }
static gb_status t_pow_half(gb_graph *g, gb_tensor **in, gb_tensor **out) { return gb_pow_scalar(g, in[0], -1.5, out); }
static gb_status t_pow_base(gb_graph *g, gb_tensor **in, gb_tensor **out) { return gb_pow_base(g, 1.7, in[0], out); }
static gb_status t_sum1(gb_graph *g, gb_tensor **in, gb_tensor **out) { return gb_sum_dim(g, in[0], 1, out); }
static gb_status t_mean0(gb_graph *g, gb_tensor **in, gb_tensor **out) { return gb_mean_dim(g, in[0], -3, out); }
static gb_status t_unsqueeze(gb_graph *g, gb_tensor **in, gb_tensor **out) { return gb_unsqueeze(g, in[0], 1, out); }
static gb_status t_squeeze(gb_graph *g, gb_tensor **in, gb_tensor **out) { return gb_squeeze_dim(g, in[0], 0, out); }
// The network layers (gb_layers.h).
static gb_status t_conv_s1(gb_graph *g, gb_tensor **in, gb_tensor **out) { return gb_conv2d(g, in[0], in[1], 1, 1, out); }
static gb_status t_conv_s2(gb_graph *g, gb_tensor **in, gb_tensor **out) { return gb_conv2d(g, in[0], in[1], 2, 1, out); }
static gb_status t_conv_1x1(gb_graph *g, gb_tensor **in, gb_tensor **out) { return gb_conv2d(g, in[0], in[1], 2, 0, out); }
static gb_status t_conv_7x7(gb_graph *g, gb_tensor **in, gb_tensor **out) { return gb_conv2d(g, in[0], in[1], 2, 3, out); }
// Winograd's forward with cached weights; the test writes w directly, so it
// says so the way an optimizer step does (a new version).
static gb_conv2d_weights wino_cache;
static int wino_gated;   // the forward feeds train-mode BatchNorm or a ReLU gate
static gb_status t_conv_wino(gb_graph *g, gb_tensor **in, gb_tensor **out) {
    in[1]->version++;
    return gb_conv2d_cached(g, in[0], in[1], 1, 1, &wino_cache, wino_gated, out);
}
// Any other shape with a cache: im2col from the cache's packed weights.
static gb_conv2d_weights packed_cache;
static gb_status t_conv_s2_cached(gb_graph *g, gb_tensor **in, gb_tensor **out) {
    in[1]->version++;
    return gb_conv2d_cached(g, in[0], in[1], 2, 1, &packed_cache, wino_gated, out);
}
// A 16 x 16 output: Winograd F(4x4, 3x3), the forward F(2x2) when gated (train mode).
static gb_status t_conv_wino16(gb_graph *g, gb_tensor **in, gb_tensor **out) {
    in[1]->version++;
    return gb_conv2d_cached(g, in[0], in[1], 1, 1, &wino_cache, wino_gated, out);
}

// The cached output equals the uncached (im2col) one for either tile, when
// the same cache switches between them: ungated, F(4x4) from a kept U;
// gated (a training step), F(2x2) from a U made per call, none kept
// (engine/kernels/conv2d_plan.c, gb_conv2d_plan_transient).
static void check_tile_switch(void) {
    gb_graph g;
    gb_graph_init(&g);
    gb_arena leaves;
    gb_arena_init(&leaves, 1 << 16);
    const int xs[4] = { 2, 3, 17, 16 }, ws[4] = { 5, 3, 3, 3 };
    gb_tensor *x = gb_tensor_new(&leaves, 4, xs), *w = gb_tensor_new(&leaves, 4, ws), *ref, *y;
    for (int i = 0; i < x->numel; i++) x->data[i] = uniform(-1, 1);
    for (int i = 0; i < w->numel; i++) w->data[i] = uniform(-1, 1);
    CHECK(gb_conv2d(&g, x, w, 1, 1, &ref) == GB_OK, "%s", gb_last_error());
    gb_conv2d_weights cache = { 0 };
    const gb_conv2d_shape s = gb_conv2d_shape_make(2, 3, 17, 16, 5, 3, 3, 1, 1);
    CHECK(gb_conv2d_plan_forward_tile(&s, 1) == 2 && gb_conv2d_plan_forward_tile(&s, 0) == 4, "forward tiles");
    for (int k = 0; k < 4; k++) {
        CHECK(gb_conv2d_cached(&g, x, w, 1, 1, &cache, k % 2, &y) == GB_OK, "%s", gb_last_error());
        if (k % 2) CHECK(!cache.fwd.u, "step %d: a gated forward kept its U", k);
        else CHECK(cache.fwd.u && cache.fwd.layout == 4, "step %d: U kept for tile %d", k, cache.fwd.layout);
        double e = 0;
        for (int i = 0; i < y->numel; i++) e = fmax(e, fabs(y->data[i] - ref->data[i]));
        CHECK(e < 1e-4, "step %d (tile %d): the cached conv differs from im2col by %g", k, cache.fwd.layout, e);
    }
    gb_conv2d_weights_free(&cache);
    gb_graph_free(&g);
    gb_arena_free(&leaves);
}

static float running_mean[3], running_var[3] = { 1, 1, 1 };
static gb_status bn(gb_graph *g, gb_tensor **in, gb_tensor **out, int training) {
    gb_tensor rm = { .ndim = 1, .shape = { 3 }, .numel = 3, .data = running_mean };
    gb_tensor rv = { .ndim = 1, .shape = { 3 }, .numel = 3, .data = running_var };
    gb_bn_params p = { .weight = in[1], .bias = in[2], .running_mean = &rm, .running_var = &rv,
                       .eps = 1e-5f, .momentum = 0.1f };
    return gb_batchnorm2d(g, in[0], &p, training, out);
}
static gb_status t_bn_train(gb_graph *g, gb_tensor **in, gb_tensor **out) { return bn(g, in, out, 1); }
static gb_status t_bn_eval(gb_graph *g, gb_tensor **in, gb_tensor **out) { return bn(g, in, out, 0); }
static gb_status t_maxpool(gb_graph *g, gb_tensor **in, gb_tensor **out) { return gb_maxpool2d(g, in[0], 3, 2, 1, out); }
static gb_status t_avgpool(gb_graph *g, gb_tensor **in, gb_tensor **out) { return gb_adaptive_avgpool1(g, in[0], out); }
static gb_status t_flatten(gb_graph *g, gb_tensor **in, gb_tensor **out) { return gb_flatten(g, in[0], out); }
static gb_status t_linear(gb_graph *g, gb_tensor **in, gb_tensor **out) { return gb_linear(g, in[0], in[1], in[2], out); }
static gb_status t_linear_nb(gb_graph *g, gb_tensor **in, gb_tensor **out) { return gb_linear(g, in[0], in[1], NULL, out); }
static gb_status t_xent(gb_graph *g, gb_tensor **in, gb_tensor **out) {
    static const int targets[3] = { 4, 0, 2 };
    return gb_cross_entropy(g, in[0], targets, out);
}

// A chain, so the tape's ordering and accumulation are exercised too.
static gb_status t_chain(gb_graph *g, gb_tensor **in, gb_tensor **out) {
    gb_tensor *a, *b, *c;
    GB_TRY(gb_mul(g, in[0], in[0], &a));      // x·x uses x twice: flows must add
    GB_TRY(gb_sigmoid(g, a, &b));
    GB_TRY(gb_mm(g, b, in[1], &c));
    return gb_tanh(g, c, out);
}

int main(void) {
    const int v3[][5] = { { 1, 3 } }, m23[][5] = { { 2, 2, 3 } };
    const int same[][5] = { { 2, 2, 3 }, { 2, 2, 3 } };
    const int bcast[][5] = { { 3, 2, 1, 3 }, { 2, 4, 1 } };      // (2,1,3) ∘ (4,1) → (2,4,3)
    const int scalar_bcast[][5] = { { 0 }, { 2, 2, 3 } };
    const int mm[][5] = { { 2, 2, 3 }, { 2, 3, 4 } }, mv[][5] = { { 2, 2, 3 }, { 1, 3 } };
    const int dot[][5] = { { 1, 3 }, { 1, 3 } }, vm[][5] = { { 1, 3 }, { 2, 3, 2 } };
    const int d4[][5] = { { 4, 2, 3, 2, 2 } }, one_first[][5] = { { 3, 1, 2, 3 } };
    const int chain[][5] = { { 2, 2, 3 }, { 2, 3, 2 } };

    check_op("neg", t_neg, 1, m23, -2, 2);
    check_op("reciprocal", t_reciprocal, 1, m23, 0.5f, 2);
    check_op("exp", t_exp, 1, m23, -2, 2);
    check_op("log", t_log, 1, m23, 0.5f, 3);
    check_op("sqrt", t_sqrt, 1, m23, 0.5f, 3);
    check_op("abs", t_abs, 1, m23, 0.2f, 2);
    check_op("sin", t_sin, 1, m23, -3, 3);
    check_op("cos", t_cos, 1, m23, -3, 3);
    check_op("tanh", t_tanh, 1, m23, -2, 2);
    check_op("sigmoid", t_sigmoid, 1, m23, -3, 3);
    check_op("relu", t_relu, 1, m23, 0.1f, 2);
    check_op("sum", t_sum, 1, d4, -1, 1);
    check_op("mean", t_mean, 1, d4, -1, 1);
    check_op("sum(dim=1)", t_sum1, 1, d4, -1, 1);
    check_op("mean(dim=-3)", t_mean0, 1, d4, -1, 1);
    check_op("add", t_add, 2, same, -1, 1);
    check_op("add broadcast", t_add, 2, bcast, -1, 1);
    check_op("add x + x", t_add_self, 1, m23, -1, 1);
    check_op("sub broadcast", t_sub, 2, bcast, -1, 1);
    check_op("mul broadcast", t_mul, 2, bcast, -1, 1);
    check_op("mul 0-d", t_mul, 2, scalar_bcast, -1, 1);
    check_op("div broadcast", t_div, 2, bcast, 0.5f, 2);
    check_op("pow tensor", t_pow, 2, same, 0.5f, 2);
    check_op("rsub", t_rsub, 1, m23, -1, 1);
    check_op("pow 3", t_pow3, 1, m23, -2, 2);
    check_op("pow -1.5", t_pow_half, 1, m23, 0.5f, 2);
    check_op("pow base", t_pow_base, 1, v3, -1, 1);
    check_op("mm", t_mm, 2, mm, -1, 1);
    check_op("mv", t_mv, 2, mv, -1, 1);
    check_op("dot", t_dot, 2, dot, -1, 1);
    check_op("matmul 1-D @ 2-D", t_matmul, 2, vm, -1, 1);
    check_op("unsqueeze", t_unsqueeze, 1, m23, -1, 1);
    check_op("squeeze", t_squeeze, 1, one_first, -1, 1);
    check_op("chain", t_chain, 2, chain, -1, 1);

    const int conv3[][5] = { { 4, 2, 3, 5, 5 }, { 4, 4, 3, 3, 3 } };
    const int conv1[][5] = { { 4, 2, 3, 5, 5 }, { 4, 4, 3, 1, 1 } };
    const int conv7[][5] = { { 4, 1, 2, 9, 9 }, { 4, 3, 2, 7, 7 } };
    const int bn_in[][5] = { { 4, 2, 3, 3, 3 }, { 1, 3 }, { 1, 3 } };
    const int img[][5] = { { 4, 2, 2, 6, 6 } }, flat[][5] = { { 4, 2, 3, 1, 1 } };
    const int lin[][5] = { { 2, 3, 4 }, { 2, 5, 4 }, { 1, 5 } }, logits[][5] = { { 2, 3, 5 } };
    check_op("conv2d 3x3 s1 p1", t_conv_s1, 2, conv3, -1, 1);
    check_op("conv2d 3x3 s2 p1", t_conv_s2, 2, conv3, -1, 1);
    check_op("conv2d 1x1 s2", t_conv_1x1, 2, conv1, -1, 1);
    check_op("conv2d 7x7 s2 p3", t_conv_7x7, 2, conv7, -1, 1);
    check_op("conv2d 3x3 s1 p1, Winograd", t_conv_wino, 2, conv3, -1, 1);
    CHECK(wino_cache.fwd.u != NULL && wino_cache.dx.u != NULL, "the 3x3 stride-1 conv should have used Winograd for y and dx");
    gb_conv2d_weights_free(&wino_cache);
    const int conv16[][5] = { { 4, 1, 2, 16, 16 }, { 4, 3, 2, 3, 3 } };
    check_op("conv2d 3x3 s1 p1 16x16, Winograd F(4x4)", t_conv_wino16, 2, conv16, -1, 1);
    CHECK(wino_cache.fwd.layout == 4 && wino_cache.dx.layout == 4, "the 16x16 conv should have used F(4x4)");
    gb_conv2d_weights_free(&wino_cache);
    wino_gated = 1;
    check_op("conv2d 3x3 s1 p1 16x16, Winograd F(2x2) forward, F(4x4) dx (gated)", t_conv_wino16, 2, conv16, -1, 1);
    // train mode and weights that train: U is made in the scratch for each call, none is kept
    CHECK(wino_cache.fwd.u == NULL && wino_cache.dx.u == NULL, "gated, w needs grad: no U should be kept");
    gb_conv2d_weights_free(&wino_cache);
    wino_gated = 0;
    check_tile_switch();
    check_op("conv2d 3x3 s2 p1, packed weights cached", t_conv_s2_cached, 2, conv3, -1, 1);
    CHECK(packed_cache.fwd.u != NULL, "the stride-2 conv should have kept its packed weights");
    wino_gated = 1;   // a training step's: w packed per call into the scratch (conv2d_plan.c)
    check_op("conv2d 3x3 s2 p1, gated: packed per call", t_conv_s2_cached, 2, conv3, -1, 1);
    CHECK(packed_cache.fwd.u == NULL, "gated: no packed w should be kept");
    wino_gated = 0;
    gb_conv2d_weights_free(&packed_cache);
    check_op("batchnorm2d train", t_bn_train, 3, bn_in, -1, 1);
    check_op("batchnorm2d eval", t_bn_eval, 3, bn_in, -1, 1);
    distinct_values = 1;
    check_op("maxpool2d 3x3 s2 p1", t_maxpool, 1, img, -1, 1);
    distinct_values = 0;
    check_op("adaptive_avg_pool2d 1x1", t_avgpool, 1, img, -1, 1);
    check_op("flatten", t_flatten, 1, flat, -1, 1);
    check_op("linear", t_linear, 3, lin, -1, 1);
    check_op("linear without bias", t_linear_nb, 2, lin, -1, 1);
    check_op("cross_entropy", t_xent, 1, logits, -2, 2);
    return gb_test_done("test_gradcheck");
}
