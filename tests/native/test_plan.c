// test_plan.c: the step memory plan (core/gb_plan.h) and the lesson's rule.
//   - random lifetimes: no two blocks alive at the same tick share a byte,
//     and the arena is never smaller than the bytes alive at any one tick;
//   - in place only at the input's last read, with equal sizes;
//   - a planned graph: a saved tensor outlives its forward readers until its
//     backward node, a frozen op's input does not, and the planned run gives
//     the same bits as the keep-everything graph;
//   - the lesson's graph (no plan) reuses nothing: every output has its own
//     bytes and keeps its values until the reset.
#include <stdlib.h>

#include "core/gb_plan.h"
#include "gb_test.h"
#include "ops/gb_ops.h"

static unsigned rng_state = 12345;
static unsigned rnd(unsigned n) {
    rng_state = rng_state * 1103515245u + 12345u;
    return (rng_state >> 8) % n;
}

static void random_plans(void) {
    for (int trial = 0; trial < 200; trial++) {
        gb_plan p = { 0 };
        gb_plan_clear(&p, (uint64_t)trial);
        int n = 1 + (int)rnd(60), ticks = 1 + (int)rnd(40);
        for (int i = 0; i < n; i++) {
            int first = 1 + (int)rnd((unsigned)ticks);
            int reuse = i > 0 && rnd(4) == 0 ? (int)rnd((unsigned)i) : -1;
            size_t bytes = reuse >= 0 && rnd(2) ? p.blocks[reuse].bytes : 1 + rnd(100000);
            int b = gb_plan_block_new(&p, bytes, first, reuse);
            if (rnd(8)) gb_plan_use(&p, b, first + (int)rnd(10));   // else: never read (an output)
        }
        CHECK(gb_plan_finish(&p) == GB_OK);
        int a, b;
        CHECK(!gb_plan_find_overlap(&p, &a, &b), "trial %d: blocks %d [%d, %d] and %d [%d, %d] overlap", trial, a,
              p.blocks[a].first, p.blocks[a].last, b, p.blocks[b].first, p.blocks[b].last);
        // The arena holds at least what lives at the busiest tick.
        size_t busiest = 0;
        for (int t = 1; t <= ticks + 10; t++) {
            size_t live = 0;
            for (int i = 0; i < p.n_blocks; i++) {
                const gb_plan_block *r = &p.blocks[gb_plan_root(&p, i)];
                if (gb_plan_root(&p, i) == i && r->first <= t && t <= r->last) live += r->bytes;
            }
            if (live > busiest) busiest = live;
        }
        CHECK(p.total >= busiest && p.total <= gb_plan_bytes_unshared(&p), "trial %d: %zu vs busiest %zu", trial,
              p.total, busiest);
        gb_plan_free(&p);
    }
}

static void in_place(void) {
    gb_plan p = { 0 };
    gb_plan_clear(&p, 1);
    int x = gb_plan_block_new(&p, 4096, 1, -1);
    gb_plan_use(&p, x, 2);                          // last read by the op at tick 2
    int y = gb_plan_block_new(&p, 4096, 2, x);      // that op's output may take x's bytes
    gb_plan_use(&p, y, 3);
    int u = gb_plan_block_new(&p, 4096, 1, -1);
    gb_plan_use(&p, u, 2);
    gb_plan_use(&p, u, 5);                          // read again later: no in place
    int v = gb_plan_block_new(&p, 4096, 2, u);
    gb_plan_use(&p, v, 3);
    int s = gb_plan_block_new(&p, 4096, 1, -1);
    gb_plan_use(&p, s, 2);
    int t = gb_plan_block_new(&p, 8192, 2, s);      // another size: no in place
    gb_plan_use(&p, t, 3);
    CHECK(gb_plan_finish(&p) == GB_OK);
    CHECK(p.blocks[y].alias == x && p.blocks[y].offset == p.blocks[x].offset, "y takes x's bytes");
    CHECK(p.blocks[v].alias < 0 && p.blocks[t].alias < 0, "no in place before a later read, or across sizes");
    CHECK(p.blocks[x].last == 3, "x's bytes live as long as y");
    int a, b;
    CHECK(!gb_plan_find_overlap(&p, &a, &b), "blocks %d and %d overlap", a, b);
    p.blocks[v].offset = p.blocks[u].offset + 64;   // a broken plan: the check must see it
    CHECK(gb_plan_find_overlap(&p, &a, &b) && a == u && b == v, "an overlap found (%d, %d)", a, b);
    gb_plan_free(&p);
}

// z = relu(a * b) + c, the loss their sum: a and b require grad, c does not.
typedef struct lesson { gb_tensor *a, *b, *c, *m, *r, *z, *loss; gb_arena *grads; } lesson;

static gb_status lesson_body(gb_graph *g, void *ctx) {
    lesson *l = ctx;
    GB_TRY(gb_mul(g, l->a, l->b, &l->m));
    GB_TRY(gb_relu(g, l->m, &l->r));
    GB_TRY(gb_add(g, l->r, l->c, &l->z));
    GB_TRY(gb_sum(g, l->z, &l->loss));
    gb_graph_keep(g, l->loss);
    return gb_backward(g, l->loss, NULL, 0, 0, l->grads);
}

static void graphs(void) {
    gb_arena leaves;
    gb_arena_init(&leaves, 0);
    const int shape[1] = { 1000 };
    gb_tensor *a = gb_tensor_new(&leaves, 1, shape), *b = gb_tensor_new(&leaves, 1, shape);
    gb_tensor *c = gb_tensor_new(&leaves, 1, shape);
    for (int i = 0; i < 1000; i++) a->data[i] = (float)(i % 7) - 3, b->data[i] = 0.5f * (float)(i % 5) - 1, c->data[i] = 0.25f;
    a->flags |= GB_REQUIRES_GRAD | GB_NEEDS_GRAD;
    b->flags |= GB_REQUIRES_GRAD | GB_NEEDS_GRAD;

    // The lesson's graph: every tensor its own bytes, all alive to the reset.
    gb_graph keep;
    gb_graph_init(&keep);
    lesson l = { .a = a, .b = b, .c = c, .grads = &leaves };
    CHECK(lesson_body(&keep, &l) == GB_OK, "%s", gb_last_error());
    gb_tensor *made[4] = { l.m, l.r, l.z, l.loss };
    const float *mem[8];
    int n = 0;
    for (int i = 0; i < 4; i++) mem[n++] = made[i]->data;
    for (int i = 0; i < 3; i++) mem[n++] = made[i]->flow;
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++) CHECK(mem[i] != mem[j], "the lesson reuses memory (%d, %d)", i, j);
    float m0 = l.m->data[1], r0 = l.r->data[1];
    CHECK(m0 == a->data[1] * b->data[1] && r0 == (m0 > 0 ? m0 : 0), "values kept to the end");
    float want_loss = l.loss->data[0], want_ga[1000], want_gb[1000];
    memcpy(want_ga, a->flow, sizeof want_ga);
    memcpy(want_gb, b->flow, sizeof want_gb);

    // The same ops planned. relu keeps its gate as bits, not its output
    // (ops/relu.c), so add, r's last reader, may write z over r in place.
    gb_graph planned;
    gb_graph_init(&planned);
    for (int run = 0; run < 2; run++) {
        lesson p = { .a = a, .b = b, .c = c, .grads = &leaves };
        CHECK(gb_graph_run_planned(&planned, 7, lesson_body, &p) == GB_OK, "%s", gb_last_error());
        CHECK(p.loss->data[0] == want_loss, "planned loss %.9g vs %.9g", p.loss->data[0], want_loss);
        CHECK(memcmp(a->flow, want_ga, sizeof want_ga) == 0 && memcmp(b->flow, want_gb, sizeof want_gb) == 0,
              "planned gradients differ (run %d)", run);
    }
    const gb_plan *plan = NULL;
    for (int i = 0; i < GB_GRAPH_PLANS; i++)
        if (planned.plans[i].valid) plan = &planned.plans[i];
    CHECK(plan != NULL && !planned.missed);
    if (plan) {
        int x, y;
        CHECK(!gb_plan_find_overlap(plan, &x, &y), "blocks %d and %d overlap", x, y);
        CHECK(gb_plan_root(plan, plan->data_block[2]) == plan->data_block[1], "z takes relu's output's bytes");
        CHECK(plan->total < gb_plan_bytes_unshared(plan), "something is reused: %zu of %zu", plan->total,
              gb_plan_bytes_unshared(plan));
    }
    // A key reused for another step (here: other sizes): the run notices,
    // takes arena memory from the first unforeseen request on, gives the
    // right numbers, and the next run measures again.
    const int half[1] = { 500 };
    gb_tensor *a2 = gb_tensor_new(&leaves, 1, half), *b2 = gb_tensor_new(&leaves, 1, half);
    gb_tensor *c2 = gb_tensor_new(&leaves, 1, half);
    memcpy(a2->data, a->data, 500 * sizeof(float));
    memcpy(b2->data, b->data, 500 * sizeof(float));
    memcpy(c2->data, c->data, 500 * sizeof(float));
    a2->flags |= GB_REQUIRES_GRAD | GB_NEEDS_GRAD;
    b2->flags |= GB_REQUIRES_GRAD | GB_NEEDS_GRAD;
    gb_graph_reset(&keep);
    lesson k2 = { .a = a2, .b = b2, .c = c2, .grads = &leaves };
    CHECK(lesson_body(&keep, &k2) == GB_OK);
    float want2 = k2.loss->data[0], want_ga2[500];
    memcpy(want_ga2, a2->flow, sizeof want_ga2);
    for (int run = 0; run < 2; run++) {
        lesson p = { .a = a2, .b = b2, .c = c2, .grads = &leaves };
        CHECK(gb_graph_run_planned(&planned, 7, lesson_body, &p) == GB_OK, "%s", gb_last_error());
        CHECK(planned.missed == (run == 0), "run %d: missed %d", run, planned.missed);
        CHECK(p.loss->data[0] == want2 && memcmp(a2->flow, want_ga2, sizeof want_ga2) == 0, "a missed plan's numbers");
    }
    gb_graph_free(&planned);
    gb_graph_free(&keep);
    gb_arena_free(&leaves);
}

int main(void) {
    random_plans();
    in_place();
    graphs();
    return gb_test_done("test_plan");
}
