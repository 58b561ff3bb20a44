// test_nn_optim.c: SGD (momentum, dampening, nesterov, weight decay) and Adam
// (bias corrections, weight decay) over four steps against torch 1.13.
// Four parameters: p0 (13: one AVX2 vector and a tail) and p1 (3, 2) get the
// fixture's gradients, except that p1 has none (None) at step 3; p2 (4) never has a grad; p3 (2) does not
// require grad. Both must be left alone, without optimizer state.
#include "../nn/nn_fixtures.h"
#include "gb_test.h"
#include "nn/gb_optim.h"

#define STEPS 4
#define MAX_ULPS 0   // bit-exact: same roundings and fusions as torch's kernels

static const int numel[4] = { 13, 6, 4, 2 };
static float init[4][16], grads[STEPS][2][16];

static void read_common(const char *fx) {
    const char *p = nn_find_line(fx, "init ") + 5;
    for (int k = 0; k < 4; k++) CHECK(nn_read_bits(&p, init[k], 16) == numel[k]);
    p = fx;
    for (int s = 0; s < STEPS; s++) {
        p = nn_find_line(p, "grads ") + 6;
        CHECK(nn_read_bits(&p, grads[s][0], 16) == 13 && nn_read_bits(&p, grads[s][1], 16) == 6);
    }
}

// Runs the config whose line starts at `line`, checking every step.
static void run_config(const char *line) {
    gb_arena arena;
    gb_arena_init(&arena, 0);
    gb_tensor *ps[4];
    float grad_mem[2][16];
    for (int k = 0; k < 4; k++) {
        int shape[1] = { numel[k] };
        ps[k] = gb_tensor_new(&arena, 1, shape);
        memcpy(ps[k]->data, init[k], sizeof(float) * (size_t)numel[k]);
        if (k != 3) ps[k]->flags |= GB_REQUIRES_GRAD | GB_NEEDS_GRAD;
    }
    // Made by gb_optim_new from the settings, as engine/api makes it.
    gb_optimizer o;
    gb_optim_settings set = { 0 };
    if (strncmp(line, "sgd", 3) == 0) {
        set.kind = GB_OPTIM_SGD;
        CHECK(sscanf(line, "sgd %lf %lf %lf %lf %d", &set.lr, &set.momentum, &set.dampening, &set.weight_decay,
                     &set.nesterov) == 5);
    } else {
        set.kind = GB_OPTIM_ADAM;
        CHECK(sscanf(line, "adam %lf %lf %lf %lf %lf", &set.lr, &set.beta1, &set.beta2, &set.eps,
                     &set.weight_decay) == 5);
    }
    CHECK(gb_optim_new(&o, &set, ps, 4) == GB_OK, "%s", gb_last_error());
    const char *p = line;
    int64_t worst = 0;
    for (int s = 0; s < STEPS; s++) {
        gb_optim_zero_grad(&o, 1);
        memcpy(grad_mem[0], grads[s][0], sizeof grad_mem[0]);
        memcpy(grad_mem[1], grads[s][1], sizeof grad_mem[1]);
        ps[0]->grad = grad_mem[0];
        ps[1]->grad = s != 2 ? grad_mem[1] : NULL;
        CHECK(gb_optim_step(&o) == GB_OK);
        p = nn_find_line(p + 1, "after ") + 6;
        for (int k = 0; k < 4; k++) {
            float want[16];
            CHECK(nn_read_bits(&p, want, 16) == numel[k]);
            for (int i = 0; i < numel[k]; i++) {
                int64_t u = nn_ulps(want[i], ps[k]->data[i]);
                if (u > worst) worst = u;
                CHECK(u <= MAX_ULPS, "%.40s step %d p%d[%d]: torch %.9g, here %.9g", line, s + 1, k, i, want[i],
                      ps[k]->data[i]);
            }
        }
    }
    int state_n = -1;
    p = nn_find_line(p, "state ");
    CHECK(p && sscanf(p, "state %d", &state_n) == 1 && state_n == gb_optim_state_count(&o),
          "len(optimizer.state) %d, here %d", state_n, gb_optim_state_count(&o));
    CHECK(!o.state[2].present && !o.state[3].present);
    printf("  %.*s: worst %lld ulps\n", (int)(strchr(line, '\n') - line), line, (long long)worst);
    gb_optim_free(&o);
    gb_arena_free(&arena);
}

static void test_errors(void) {
    gb_optimizer o;
    gb_tensor t = { 0 }, *ps[1] = { &t };
    CHECK(gb_sgd_init(&o, ps, 1, -0.1, 0, 0, 0, 0) == GB_ERR_ARG);
    CHECK(strcmp(gb_last_error(), "Invalid learning rate: -0.1") == 0, "%s", gb_last_error());
    CHECK(gb_sgd_init(&o, ps, 1, 0.1, 0, 0, 0, 1) == GB_ERR_ARG);
    CHECK(strcmp(gb_last_error(), "Nesterov momentum requires a momentum and zero dampening") == 0);
    CHECK(gb_adam_init(&o, ps, 1, 0.1, 1.0, 0.999, 1e-8, 0) == GB_ERR_ARG);
    CHECK(strcmp(gb_last_error(), "Invalid beta parameter at index 0: 1") == 0, "%s", gb_last_error());
    CHECK(gb_adam_init(&o, ps, 0, 0.1, 0.9, 0.999, 1e-8, 0) == GB_ERR_ARG);
    CHECK(strcmp(gb_last_error(), "optimizer got an empty parameter list") == 0);
    const gb_optim_settings unknown = { .kind = (gb_optim_kind)2, .lr = 0.1 };
    CHECK(gb_optim_new(&o, &unknown, ps, 1) == GB_ERR_ARG && o.n_params == 0);
    CHECK(strcmp(gb_last_error(), "unknown optimizer 2 (0 SGD, 1 Adam)") == 0, "%s", gb_last_error());
    const gb_optim_settings sgd = { .kind = GB_OPTIM_SGD, .lr = 0.1, .momentum = 0.9, .dampening = 0.5 };
    CHECK(gb_optim_new(&o, &sgd, ps, 1) == GB_OK);
    gb_sgd_set_group(&o, 0.01, 0.5, 1e-4);   // the lesson's train step between calls
    CHECK(o.lr == 0.01 && o.momentum == 0.5 && o.weight_decay == 1e-4 && o.dampening == 0.5);
    gb_optim_free(&o);
}

// gb_fma_f32 against libm's fmaf: random operands, and built double-rounding
// traps x + ulp/2 - ulp*2^-47 (the double sum lands on the float halfway
// point; correct rounding goes down, a plain (float) of the double would go
// to even), plus subnormal results.
static void test_fma(void) {
    enum { N = 2000000 };
    float *ops = malloc(sizeof(float) * 4 * N);   // a, b, c, fmaf(a, b, c) of case i at 4 i
    CHECK(ops != NULL);
    uint64_t s = 88172645463325252ull;
    int differ = 0, traps = 0;
    for (int i = 0; i < N; i++) {
        s ^= s << 13; s ^= s >> 7; s ^= s << 17;
        float a = ldexpf((float)(s & 0xffffff) / 0x1p24f + 0.5f, (int)(s >> 40 & 31) - 15);
        float b = ldexpf((float)(s >> 24 & 0xffff) / 0x1p16f - 0.5f, (int)(s >> 56 & 15) - 8);
        float c = ldexpf((float)(s >> 8 & 0xffffff) / 0x1p24f - 0.5f, (int)(s >> 32 & 31) - 15);
        if (i % 4 == 1) {   // a trap: c odd-mantissa float, a*b = ulp(c)/2 (1 - 2^-46)
            c = 1.0f + (float)(2 * (s % 4000000) + 1) * 0x1p-23f;
            a = 0x1p-24f * (1.0f + 0x1p-23f);
            b = 1.0f - 0x1p-23f;
            traps += (float)((double)a * b + c) != fmaf(a, b, c);
        } else if (i % 4 == 2) {   // tiny results
            a = ldexpf(a, -100); b = ldexpf(b, -40); c = ldexpf(c, -130);
        }
        float want = fmaf(a, b, c), got = gb_fma_f32(a, b, c);
        differ += memcmp(&want, &got, sizeof want) != 0;
        ops[4 * i] = a; ops[4 * i + 1] = b; ops[4 * i + 2] = c; ops[4 * i + 3] = want;
    }
    CHECK(traps > 0, "the traps should defeat a plain double sum");
    CHECK(differ == 0, "gb_fma_f32 differs from fmaf %d times", differ);
    // gb_fma4_f32: 4 cases at once, in groups that hold a trap and a tiny result
    // (cases 4k..4k+3: the per-lane fallback) and in groups of random cases only
    // (cases 0 and 3 mod 4: mostly the vector path).
    int differ4 = 0;
    for (int pass = 0; pass < 2; pass++)
        for (int g = 0; g + 4 <= (pass == 0 ? N : N / 2); g += 4) {
            float a[4], b[4], c[4], want[4], got[4];
            for (int l = 0; l < 4; l++) {
                const int i = pass == 0 ? g + l : (g + l) / 2 * 4 + ((g + l) % 2 ? 3 : 0);
                a[l] = ops[4 * i]; b[l] = ops[4 * i + 1]; c[l] = ops[4 * i + 2]; want[l] = ops[4 * i + 3];
            }
            gb_fma4_f32(a, b, c, got);
            differ4 += memcmp(want, got, sizeof want) != 0;
        }
    free(ops);
    CHECK(differ4 == 0, "gb_fma4_f32 differs from fmaf in %d groups of 4", differ4);
    printf("  gb_fma_f32, gb_fma4_f32: 2M cases equal to fmaf (%d double-rounding traps among them)\n", traps);
}

int main(void) {
    test_fma();
    char *fx = nn_read_fixture("optim.txt");
    read_common(fx);
    int configs = 0;
    for (const char *p = fx; *p; p = strchr(p, '\n') + 1) {
        if (strncmp(p, "sgd ", 4) == 0 || strncmp(p, "adam ", 5) == 0) { run_config(p); configs++; }
        if (!strchr(p, '\n')) break;
    }
    CHECK(configs == 6, "%d configs", configs);
    test_errors();
    free(fx);
    return gb_test_done("test_nn_optim");
}
