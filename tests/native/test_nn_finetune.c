// test_nn_finetune.c: the DataLoader order (two epochs printed by torch 1.13:
// DataLoader(range(10), batch_size=3, shuffle=True, generator=manual_seed(0))),
// and the optimizer state as a state dict: round trip (a restored optimizer
// steps as the original), and refusals of hostile entries that change nothing
// (under ASan/UBSan in the native build). The JS side, against torch's own
// training runs: tests/resnet/finetune-engine.test.mjs, finetune-state.test.mjs.
#include "gb_test.h"
#include "nn/gb_finetune.h"

static void test_order(void) {
    static const int32_t want[2][10] = { { 3, 7, 5, 2, 0, 8, 1, 6, 9, 4 }, { 1, 3, 2, 7, 5, 9, 0, 6, 4, 8 } };
    int32_t got[10];
    for (int e = 0; e < 2; e++) {
        gb_dataloader_order(0, 10, e, got);
        for (int i = 0; i < 10; i++) CHECK(got[i] == want[e][i], "epoch %d [%d]: %d, not %d", e, i, got[i], want[e][i]);
    }
    gb_dataloader_order(5, 1, 3, got);
    CHECK(got[0] == 0);
}

// Two parameters "a" (5) and "b" (2, 3) with fixed gradients.
typedef struct params { gb_arena arena; gb_tensor *p[2]; } params;

static void make_params(params *ps) {
    gb_arena_init(&ps->arena, 0);
    static const int shapes[2][2] = { { 5, 0 }, { 2, 3 } };
    static const char *const names[2] = { "a", "b" };
    for (int k = 0; k < 2; k++) {
        ps->p[k] = gb_tensor_new(&ps->arena, k + 1, shapes[k]);
        ps->p[k]->name = names[k];
        ps->p[k]->flags |= GB_REQUIRES_GRAD | GB_NEEDS_GRAD;
        ps->p[k]->grad = gb_arena_alloc(&ps->arena, sizeof(float) * (size_t)ps->p[k]->numel);
        for (int i = 0; i < ps->p[k]->numel; i++) {
            ps->p[k]->data[i] = 0.1f * (float)(i + 1) - 0.2f * (float)k;
            ps->p[k]->grad[i] = 0.05f * (float)((i * 7 + k) % 5) - 0.1f;
        }
    }
}

static int same(const params *x, const params *y) {
    for (int k = 0; k < 2; k++)
        if (memcmp(x->p[k]->data, y->p[k]->data, sizeof(float) * (size_t)x->p[k]->numel) != 0) return 0;
    return 1;
}

static gb_status init(gb_optimizer *o, params *ps, int adam) {
    return adam ? gb_adam_init(o, ps->p, 2, 1e-2, 0.9, 0.999, 1e-8, 1e-4)
                : gb_sgd_init(o, ps->p, 2, 1e-2, 0.9, 0, 1e-4, 1);
}

static void test_round_trip(int adam) {
    params x, y;
    make_params(&x);
    make_params(&y);
    gb_optimizer ox, oy;
    CHECK(init(&ox, &x, adam) == GB_OK && init(&oy, &y, adam) == GB_OK);
    for (int s = 0; s < 3; s++) CHECK(gb_optim_step(&ox) == GB_OK);
    memcpy(y.p[0]->data, x.p[0]->data, sizeof(float) * 5);
    memcpy(y.p[1]->data, x.p[1]->data, sizeof(float) * 6);
    gb_state_dict sd;
    memset(&sd, 0, sizeof sd);
    CHECK(gb_optim_state_save(&ox, &sd) == GB_OK);
    CHECK(sd.n == (adam ? 6 : 2), "%d entries", sd.n);
    CHECK(gb_optim_state_load(&oy, &sd) == GB_OK, "%s", gb_last_error());
    for (int s = 0; s < 2; s++) CHECK(gb_optim_step(&ox) == GB_OK && gb_optim_step(&oy) == GB_OK);
    CHECK(same(&x, &y), "%s: the restored optimizer steps differently", adam ? "Adam" : "SGD");

    // Hostile entries: each refused, and y's optimizer steps on as x's.
    gb_sd_entry *e = gb_sd_find(&sd, adam ? "b.exp_avg" : "b.momentum_buffer");
    CHECK(e != NULL);
    e->shape[0] = 3;   // (3, 3): a wrong shape
    CHECK(gb_optim_state_load(&oy, &sd) == GB_ERR_MISMATCH);
    e->shape[0] = 2;
    char *name = e->name;
    e->name = (char *)"c.momentum_buffer";   // a parameter the optimizer does not train
    CHECK(gb_optim_state_load(&oy, &sd) == GB_ERR_MISMATCH);
    e->name = (char *)(adam ? "b.momentum_buffer" : "b.exp_avg");   // the other optimizer's buffer
    CHECK(gb_optim_state_load(&oy, &sd) == GB_ERR_MISMATCH);
    e->name = (char *)"a";   // no buffer name at all
    CHECK(gb_optim_state_load(&oy, &sd) == GB_ERR_MISMATCH);
    e->name = name;
    if (adam) {
        gb_sd_entry *step = gb_sd_find(&sd, "a.step");
        step->ndim = 1;   // step is 0-d
        CHECK(gb_optim_state_load(&oy, &sd) == GB_ERR_MISMATCH);
        step->ndim = 0;
        sd.n--;   // the last entry, b.step, missing: incomplete
        CHECK(gb_optim_state_load(&oy, &sd) == GB_ERR_MISMATCH);
        sd.n++;
    }
    CHECK(gb_optim_step(&ox) == GB_OK && gb_optim_step(&oy) == GB_OK);
    CHECK(same(&x, &y), "%s: a refused load changed the state", adam ? "Adam" : "SGD");
    gb_sd_free(&sd);
    gb_optim_free(&ox);
    gb_optim_free(&oy);
    gb_arena_free(&x.arena);
    gb_arena_free(&y.arena);
}

int main(void) {
    test_order();
    test_round_trip(0);
    test_round_trip(1);
    return gb_test_done("test_nn_finetune");
}
