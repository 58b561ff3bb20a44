// test_nn_forward.c: resnet18's forward and backward against torch 1.13 on a
// (2, 3, 64, 64) batch: logits in eval and train mode, the cross-entropy loss,
// running statistics after a training forward, and gradients from the head
// down to conv1. Weights come from uniform draws only, so both sides hold the
// same bits (see deterministic_resnet in gen_nn_fixtures.py). Then freezing:
// a frozen backbone gets no .grad and backward never enters it. A planned step
// (core/gb_plan.h: memory reused by liveness, ReLUs in place) gives the very
// same bits as the keep-everything graph in less memory, and so does its
// second run on the same plan (the sanitizer build poisons every block).
#include "../nn/nn_fixtures.h"
#include "gb_test.h"
#include "nn/gb_optim.h"
#include "nn/gb_resnet18.h"

static char *fx;

static void redraw(gb_module *m, void *ctx) {
    gb_generator *gen = ctx;
    if (m->kind == GB_MOD_CONV2D) gb_conv2d_reset_parameters(m, gen);
    else if (m->kind == GB_MOD_LINEAR) gb_linear_reset_parameters(m, gen);
    else if (m->kind == GB_MOD_BATCHNORM2D) {
        int C = m->in_ch;
        gb_uniform_(gen, m->params[0]->data, C, 0.5, 1.5);
        gb_uniform_(gen, m->params[1]->data, C, -0.2, 0.2);
        gb_uniform_(gen, m->buffers[0]->data, C, -0.1, 0.1);
        gb_uniform_(gen, m->buffers[1]->data, C, 0.5, 2.0);
    }
}

// Values on the fixture line `key` against got[0..n): |a − b| <= tol·(1 + |b|).
static void check_vals(const char *key, const float *got, int n, double tol) {
    char prefix[80];
    snprintf(prefix, sizeof prefix, "%s ", key);
    const char *p = nn_find_line(fx, prefix);
    CHECK(p != NULL, "fixture line %s", key);
    if (!p) return;
    p += strlen(prefix);
    double worst = 0;
    for (int i = 0; i < n; i++) {
        char *end;
        double want = strtod(p, &end);
        CHECK(end != p, "%s: fewer than %d values", key, n);
        p = end;
        double err = fabs(want - got[i]) / (1 + fabs(want));
        if (err > worst) worst = err;
        CHECK(err <= tol, "%s[%d]: torch %.9g, here %.9g", key, i, want, got[i]);
    }
    printf("  %-36s worst relative error %.2e\n", key, worst);
}

static gb_tensor *param(gb_model *m, const char *path, int i) {
    gb_module *mod;
    GB_ASSERT(gb_module_find(m->root, path, &mod) == GB_OK, "%s", path);
    return i < 2 ? mod->params[i] : mod->buffers[i - 2];
}

// One training step (or, with no target, a no_grad forward) for gb_graph_run_planned.
typedef struct step_call { gb_model *m; gb_tensor *x; const int *target; gb_tensor *logits, *loss; } step_call;

static gb_status step_body(gb_graph *g, void *ctx) {
    step_call *s = ctx;
    GB_TRY(gb_resnet18_forward(s->m, g, s->x, &s->logits));
    gb_graph_keep(g, s->logits);
    if (!s->target) return GB_OK;
    GB_TRY(gb_cross_entropy(g, s->logits, s->target, &s->loss));
    gb_graph_keep(g, s->loss);
    gb_model_zero_grad(s->m, 1);
    return gb_model_backward(s->m, g, s->loss);
}

static const gb_plan *only_plan(const gb_graph *g) {
    const gb_plan *found = NULL;
    for (int i = 0; i < GB_GRAPH_PLANS; i++)
        if (g->plans[i].valid) found = &g->plans[i];
    return found;
}

int main(void) {
    fx = nn_read_fixture("forward.txt");
    gb_model m;
    gb_generator gen;
    gb_generator_seed(&gen, 3);
    CHECK(gb_resnet18_new(&m, 5) == GB_OK);
    gb_resnet18_init(&m, &gen, 0);
    gb_module_walk(m.root, redraw, &gen);
    gb_arena data;
    gb_arena_init(&data, 0);
    const int xs[4] = { 2, 3, 64, 64 };
    gb_tensor *x = gb_tensor_new(&data, 4, xs);
    gb_uniform_(&gen, x->data, x->numel, 0, 1);   // torch.rand
    const int target[2] = { 1, 3 };

    gb_graph g;
    gb_graph_init(&g);
    gb_tensor *logits, *loss;
    gb_module_train(m.root, 0);
    g.grad_enabled = 0;   // torch.no_grad()
    CHECK(gb_resnet18_forward(&m, &g, x, &logits) == GB_OK, "%s", gb_last_error());
    CHECK(logits->ndim == 2 && logits->shape[0] == 2 && logits->shape[1] == 5);
    check_vals("eval_logits", logits->data, 10, 1e-5);
    CHECK(g.n_nodes == 0, "no_grad records nothing");
    {   // conv + BatchNorm + ReLU and sum + ReLU fused (forward.c): the bits of op by op
        float fused[10];
        memcpy(fused, logits->data, sizeof fused);
        gb_graph_reset(&g);
        gb_resnet18_fuse = 0;
        CHECK(gb_resnet18_forward(&m, &g, x, &logits) == GB_OK, "%s", gb_last_error());
        gb_resnet18_fuse = 1;
        CHECK(!memcmp(fused, logits->data, sizeof fused), "fused eval forward differs from op by op");
    }
    {   // eval mode with only layer4.1 trainable: the frozen convs before it still run fused, but the
        // forward is gated, so their U is made per call (layer4.0.conv2's, 16.8 MB, in chunks of
        // output channels), and the BatchNorm must still be applied as y is stored
        gb_graph_reset(&g);
        CHECK(gb_module_set_requires_grad(m.root, "", 0) == GB_OK);
        CHECK(gb_module_set_requires_grad(m.root, "layer4.1", 1) == GB_OK);
        g.grad_enabled = 1;
        CHECK(gb_resnet18_forward(&m, &g, x, &logits) == GB_OK, "%s", gb_last_error());
        check_vals("eval_logits", logits->data, 10, 3e-5);
        CHECK(gb_module_set_requires_grad(m.root, "", 1) == GB_OK);
        g.grad_enabled = 0;
    }

    gb_graph_reset(&g);
    g.grad_enabled = 1;
    gb_module_train(m.root, 1);
    CHECK(gb_resnet18_forward(&m, &g, x, &logits) == GB_OK, "%s", gb_last_error());
    CHECK(gb_cross_entropy(&g, logits, target, &loss) == GB_OK);
    CHECK(gb_model_backward(&m, &g, loss) == GB_OK, "%s", gb_last_error());
    check_vals("train_logits", logits->data, 10, 3e-5);
    check_vals("loss", loss->data, 1, 1e-5);
    check_vals("bn1.running_mean", param(&m, "bn1", 2)->data, 8, 1e-5);
    check_vals("layer4.1.bn2.running_var", param(&m, "layer4.1.bn2", 3)->data, 8, 1e-5);
    CHECK(m.root->children[1]->bn.num_batches_tracked == 1);
    check_vals("fc.weight.grad", param(&m, "fc", 0)->grad, 16, 1e-5);
    check_vals("fc.bias.grad", param(&m, "fc", 1)->grad, 5, 1e-5);
    check_vals("layer4.1.bn2.weight.grad", param(&m, "layer4.1.bn2", 0)->grad, 8, 1e-4);
    check_vals("layer2.0.downsample.0.weight.grad", param(&m, "layer2.0.downsample.0", 0)->grad, 8, 1e-4);
    check_vals("conv1.weight.grad", param(&m, "conv1", 0)->grad, 16, 1e-4);

    // The same step planned: identical logits, loss and every .grad.
    {
        gb_tensor *all[62];
        int np = gb_module_parameters(m.root, all, 62);
        float want_logits[10], want_loss = loss->data[0];
        memcpy(want_logits, logits->data, sizeof want_logits);
        float *want_grads[62];
        for (int i = 0; i < np; i++) {
            want_grads[i] = malloc(sizeof(float) * (size_t)all[i]->numel);
            memcpy(want_grads[i], all[i]->grad, sizeof(float) * (size_t)all[i]->numel);
        }
        size_t keep_all_peak = gb_graph_peak_bytes(&g);
        gb_graph planned;
        gb_graph_init(&planned);
        size_t graph_blocks = 0, act_bytes = 0, grad_blocks = 0;
        for (int run = 0; run < 3; run++) {   // run 0 measures first, runs 1 and 2 reuse the plan
            if (run == 2) {   // nothing grows once planned: no malloc inside a step
                graph_blocks = gb_arena_capacity(&planned.arena);
                act_bytes = planned.act_bytes;
                grad_blocks = gb_arena_capacity(&m.grad_arena);
            }
            step_call st = { .m = &m, .x = x, .target = target };
            CHECK(gb_graph_run_planned(&planned, 42, step_body, &st) == GB_OK, "%s", gb_last_error());
            CHECK(memcmp(want_logits, st.logits->data, sizeof want_logits) == 0, "planned logits differ (run %d)", run);
            CHECK(want_loss == st.loss->data[0], "planned loss %.9g vs %.9g", st.loss->data[0], want_loss);
            int same = 0;
            for (int i = 0; i < np; i++)
                same += all[i]->grad && memcmp(want_grads[i], all[i]->grad, sizeof(float) * (size_t)all[i]->numel) == 0;
            CHECK(same == np, "%d of %d .grad bit-identical on the planned step (run %d)", same, np, run);
        }
        for (int i = 0; i < np; i++) free(want_grads[i]);
        CHECK(gb_arena_capacity(&planned.arena) == graph_blocks && planned.act_bytes == act_bytes &&
                  gb_arena_capacity(&m.grad_arena) == grad_blocks, "a planned step grew its memory");
        const gb_plan *plan = only_plan(&planned);
        CHECK(plan && !planned.missed, "the second run followed the plan");
        CHECK(planned.scratch_bytes == 0, "a planned step asks the heap for no work area (%zu bytes)", planned.scratch_bytes);
        int a, b;
        CHECK(plan && !gb_plan_find_overlap(plan, &a, &b), "blocks %d and %d overlap", a, b);
        size_t planned_peak = gb_graph_peak_bytes(&planned);
        printf("  step peak: keep-all %.1f MB, planned %.1f MB (arena %.1f of %.1f MB in %d blocks)\n",
               keep_all_peak / 1e6, planned_peak / 1e6, plan ? plan->total / 1e6 : 0,
               plan ? gb_plan_bytes_unshared(plan) / 1e6 : 0, plan ? plan->n_blocks : 0);
        CHECK(planned_peak < keep_all_peak / 2, "planned peak %zu vs %zu", planned_peak, keep_all_peak);

        // no_grad, planned: everything but the logits is reused on the way.
        gb_module_train(m.root, 0);
        gb_graph_reset(&g);
        g.grad_enabled = 0;
        CHECK(gb_resnet18_forward(&m, &g, x, &logits) == GB_OK, "%s", gb_last_error());
        memcpy(want_logits, logits->data, sizeof want_logits);
        g.grad_enabled = 1;
        planned.grad_enabled = 0;
        for (int run = 0; run < 2; run++) {
            step_call st = { .m = &m, .x = x };
            CHECK(gb_graph_run_planned(&planned, 43, step_body, &st) == GB_OK, "%s", gb_last_error());
            CHECK(memcmp(want_logits, st.logits->data, sizeof want_logits) == 0, "planned eval logits differ");
        }
        planned.grad_enabled = 1;
        printf("  no_grad forward peak, planned: %.2f MB (arena %.2f, plan %.2f, scratch %.2f)\n", gb_graph_peak_bytes(&planned) / 1e6, planned.arena.peak / 1e6, planned.act_peak / 1e6, planned.scratch_bytes / 1e6);
        gb_graph_free(&planned);
        gb_module_train(m.root, 1);
    }

    // The tutorial: freeze everything, a new 10-class head; backward reaches fc only.
    gb_model_zero_grad(&m, 1);
    gb_module_set_requires_grad(m.root, "", 0);
    CHECK(gb_resnet18_replace_fc(&m, 10, NULL, 0) == GB_OK);
    gb_tensor *params[62];
    gb_module_parameters(m.root, params, 62);
    gb_optimizer opt;
    CHECK(gb_sgd_init(&opt, params, 62, 1e-2, 0.9, 0, 0, 0) == GB_OK);
    gb_module_train(m.root, 0);   // fixed features: the loss must fall on a fixed batch
    float first = 0, last = 0;
    size_t grad_bytes = 0;
    for (int step = 0; step < 5; step++) {
        gb_graph_reset(&g);
        gb_optim_zero_grad(&opt, 1);
        CHECK(gb_resnet18_forward(&m, &g, x, &logits) == GB_OK);
        CHECK(gb_cross_entropy(&g, logits, target, &loss) == GB_OK);
        CHECK(gb_model_backward(&m, &g, loss) == GB_OK, "%s", gb_last_error());
        CHECK(gb_optim_step(&opt) == GB_OK);
        if (step == 0) { first = loss->data[0]; grad_bytes = m.grad_arena.used; }
        last = loss->data[0];
        CHECK(m.grad_arena.used == grad_bytes, "the grad arena is recycled each step");
        CHECK(g.n_nodes <= 4, "only flatten-free head ops recorded: %d nodes", g.n_nodes);
    }
    CHECK(last < first, "loss %g -> %g", first, last);
    int with_grad = 0;
    for (int i = 0; i < 62; i++) with_grad += params[i]->grad != NULL;
    CHECK(with_grad == 2 && param(&m, "fc", 0)->grad && param(&m, "fc", 1)->grad);
    CHECK(gb_optim_state_count(&opt) == 2 && gb_optim_state_bytes(&opt) == sizeof(float) * 5130);

    // The forward's Winograd tile (engine/kernels/conv2d_plan.c): with only fc training, backward
    // passes no ReLU and a frozen layer takes the faster F(4x4) (layer1 here: 32 of its
    // tiles, its U kept); once layer4 trains, every convolution runs F(2x2), so that the ReLU
    // gates backward reads are PyTorch's, from a U made per step (none kept); under no_grad the
    // faster one again.
    gb_module *l1conv;
    CHECK(gb_module_find(m.root, "layer1.0.conv1", &l1conv) == GB_OK);
    const gb_conv2d_kept *u = &l1conv->conv_weights.fwd;
    gb_graph_reset(&g);
    CHECK(gb_resnet18_forward(&m, &g, x, &logits) == GB_OK);
    CHECK(!l1conv->gated && u->u && u->layout == 4, "fc trains: layer1 F(%d)", u->layout);
    CHECK(gb_module_set_requires_grad(m.root, "layer4", 1) == GB_OK);
    gb_graph_reset(&g);
    CHECK(gb_resnet18_forward(&m, &g, x, &logits) == GB_OK);
    CHECK(l1conv->gated && !u->u, "layer4 trains: layer1 kept a U for F(%d)", u->layout);
    gb_graph_reset(&g);
    g.grad_enabled = 0;
    CHECK(gb_resnet18_forward(&m, &g, x, &logits) == GB_OK);
    CHECK(!l1conv->gated && u->layout == 4, "no_grad: layer1 F(%d)", u->layout);
    g.grad_enabled = 1;
    CHECK(gb_module_set_requires_grad(m.root, "layer4", 0) == GB_OK);

    // Wrong input: a readable error, not an abort.
    const int gray[4] = { 1, 1, 32, 32 };
    gb_tensor *bad = gb_tensor_new(&data, 4, gray);
    CHECK(gb_resnet18_forward(&m, &g, bad, &logits) == GB_ERR_SHAPE);

    gb_optim_free(&opt);
    gb_graph_free(&g);
    gb_arena_free(&data);
    gb_resnet18_free(&m);
    free(fx);
    return gb_test_done("test_nn_forward");
}
