// test_nn_init.c: PyTorch's generator and inits, against torch 1.13:
// nn.Linear(512, N) after torch.manual_seed(seed) bit for bit; resnet18's own
// init (fc bit for bit, the draw count exact, conv normal_ within a few ulps).
#include "../nn/nn_fixtures.h"
#include "gb_test.h"
#include "nn/gb_resnet18.h"

static float want[4096];

// Compares `n` floats with the next bit patterns on the line; max ulps allowed.
static void check_bits(const char *what, const char **p, const float *got, int n, int max_ulps) {
    int m = nn_read_bits(p, want, 4096);
    CHECK(m == n, "%s: %d values in the fixture, %d here", what, m, n);
    int bad = 0;
    int64_t worst = 0;
    for (int i = 0; i < n && i < m; i++) {
        int64_t d = nn_ulps(want[i], got[i]);
        if (d > worst) worst = d;
        if (d > max_ulps && bad++ < 3)
            fprintf(stderr, "  %s[%d]: torch %.9g, here %.9g (%lld ulps)\n", what, i, want[i], got[i], (long long)d);
    }
    CHECK(bad == 0, "%s: %d of %d values off by more than %d ulps", what, bad, n, max_ulps);
}

static void test_mt19937(void) {
    // std::mt19937 with the default seed 5489 gives 3499211612 first and
    // 4123659995 as its 10000th number (C++11 [rand.predef]).
    gb_generator g;
    gb_generator_seed(&g, 5489);
    CHECK(gb_generator_random(&g) == 3499211612u);
    for (int i = 1; i < 9999; i++) gb_generator_random(&g);
    CHECK(gb_generator_random(&g) == 4123659995u);
}

static void test_linear(const char *fixture) {
    const char *line = fixture;
    int cases = 0;
    while ((line = nn_find_line(line, "linear "))) {
        unsigned long long seed;
        int n, off;
        CHECK(sscanf(line, "linear %llu %d %n", &seed, &n, &off) == 2);
        const char *p = line + off;
        gb_arena a;
        gb_arena_init(&a, 0);
        gb_module *fc = gb_linear_module(&a, 512, n, 1);
        gb_generator g;
        gb_generator_seed(&g, seed);
        gb_linear_reset_parameters(fc, &g);
        check_bits("fc.weight", &p, fc->params[0]->data, 512 * n, 0);
        check_bits("fc.bias", &p, fc->params[1]->data, n, 0);
        gb_arena_free(&a);
        cases++;
        line++;
    }
    CHECK(cases == 3, "%d linear cases", cases);
}

static void test_replace_fc(const char *fixture) {
    // The same numbers through the model API: replace_fc(model, 2, seed 0).
    gb_model m;
    CHECK(gb_resnet18_new(&m, 1000) == GB_OK);
    CHECK(gb_resnet18_replace_fc(&m, 2, NULL, 0) == GB_OK);
    gb_module *fc = gb_module_child(m.root, "fc");
    const char *p = nn_find_line(fixture, "linear 0 2 ") + strlen("linear 0 2 ");
    check_bits("replace_fc weight", &p, fc->params[0]->data, 1024, 0);
    check_bits("replace_fc bias", &p, fc->params[1]->data, 2, 0);
    gb_resnet18_free(&m);
}

static void test_resnet_init(const char *fixture) {
    gb_model m;
    CHECK(gb_resnet18_new(&m, 3) == GB_OK);
    gb_generator g;
    gb_generator_seed(&g, 7);
    CHECK(gb_resnet18_init(&m, &g, 0) == GB_OK);
    gb_module *fc = gb_module_child(m.root, "fc");
    const char *p = nn_find_line(fixture, "resnet_fc 7 3 ") + strlen("resnet_fc 7 3 ");
    check_bits("resnet18(num_classes=3).fc.weight", &p, fc->params[0]->data, 1536, 0);
    check_bits("resnet18(num_classes=3).fc.bias", &p, fc->params[1]->data, 3, 0);
    // What comes next in the stream: exact only if every draw was counted.
    gb_arena a;
    gb_arena_init(&a, 0);
    gb_module *next = gb_linear_module(&a, 512, 1, 1);
    gb_linear_reset_parameters(next, &g);
    p = nn_find_line(fixture, "resnet_next 7 1 ") + strlen("resnet_next 7 1 ");
    check_bits("nn.Linear(512, 1) after resnet18()", &p, next->params[0]->data, 512, 0);
    check_bits("its bias", &p, next->params[1]->data, 1, 0);
    gb_arena_free(&a);
    // kaiming_normal_: torch's AVX2 build uses SLEEF's log/sin/cos.
    gb_module *conv1 = gb_module_child(m.root, "conv1");
    p = nn_find_line(fixture, "resnet_conv1 7 ") + strlen("resnet_conv1 7 ");
    check_bits("conv1.weight[:64]", &p, conv1->params[0]->data, 64, 8);
    gb_module *ds;
    CHECK(gb_module_find(m.root, "layer3.0.downsample.0", &ds) == GB_OK);
    p = nn_find_line(fixture, "resnet_ds 7 ") + strlen("resnet_ds 7 ");
    check_bits("layer3.0.downsample.0.weight[-64:]", &p, ds->params[0]->data + ds->params[0]->numel - 64, 64, 8);
    gb_module *bn;
    CHECK(gb_module_find(m.root, "layer2.1.bn2", &bn) == GB_OK);
    CHECK(bn->params[0]->data[5] == 1.0f && bn->params[1]->data[5] == 0.0f && bn->buffers[1]->data[5] == 1.0f);
    gb_resnet18_free(&m);
}

int main(void) {
    char *fixture = nn_read_fixture("init.txt");
    test_mt19937();
    test_linear(fixture);
    test_replace_fc(fixture);
    test_resnet_init(fixture);
    free(fixture);
    return gb_test_done("test_nn_init");
}
