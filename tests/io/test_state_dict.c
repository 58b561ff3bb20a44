// test_state_dict.c: gb_sd_add/find/free, and gb_sd_compare against the
// exact messages torch 1.13's load_state_dict(strict=True) gave for the same
// mismatches (tests/fixtures/io/compare.json, from gen_io_fixtures.py).
#include "gb_json.h"
#include "io_test_util.h"

static const gb_json_node *member(const gb_json_doc *d, const gb_json_node *obj, const char *key) {
    for (int c = obj->first_child; c >= 0; c = d->nodes[c].next)
        if (strcmp(d->nodes[c].key, key) == 0) return &d->nodes[c];
    return NULL;
}

// [{"name": ..., "shape": [...]}, ...] -> names and shapes.
static int read_shapes(const gb_json_doc *d, const gb_json_node *arr, gb_sd_expect *out) {
    int n = 0;
    for (int c = arr->first_child; c >= 0; c = d->nodes[c].next, n++) {
        const gb_json_node *shape = member(d, &d->nodes[c], "shape");
        out[n] = (gb_sd_expect){.name = member(d, &d->nodes[c], "name")->str};
        for (int k = shape->first_child; k >= 0; k = d->nodes[k].next)
            out[n].shape[out[n].ndim++] = (int64_t)d->nodes[k].u;
    }
    return n;
}

static void test_torch_messages(void) {
    size_t len;
    uint8_t *text = read_fixture("compare.json", &len);
    gb_json_doc d;
    CHECK(gb_json_parse((const char *)text, len, &d, "compare.json") == GB_OK, "%s", gb_last_error());
    const gb_json_node *root = &d.nodes[0];
    gb_sd_expect expected[64], have[64];
    int n = read_shapes(&d, member(&d, root, "expected"), expected);
    const char *model = member(&d, root, "model")->str;
    const gb_json_node *cases = member(&d, root, "cases");
    for (int c = cases->first_child; c >= 0; c = d.nodes[c].next) {
        const gb_json_node *cs = &d.nodes[c];
        int n_have = read_shapes(&d, member(&d, cs, "have"), have);
        gb_state_dict sd = {0};
        for (int i = 0; i < n_have; i++)
            CHECK(gb_sd_add(&sd, have[i].name, have[i].ndim, have[i].shape, GB_DT_F32, NULL) == GB_OK);
        char report[2048];
        gb_status st = gb_sd_compare(&sd, model, expected, n, report, sizeof report);
        const char *want = member(&d, cs, "message")->str;
        CHECK(strcmp(report, want) == 0, "case %s:\n got: %s\nwant: %s", member(&d, cs, "label")->str,
              report, want);
        CHECK(st == (want[0] ? GB_ERR_MISMATCH : GB_OK));
        if (want[0]) CHECK(strncmp(gb_last_error(), want, 200) == 0);
        gb_sd_free(&sd);
    }
    gb_json_free(&d);
    free(text);
}

static void test_basics(void) {
    gb_state_dict sd = {0};
    int64_t shape[2] = {2, 3};
    float v[6] = {1, 2, 3, 4, 5, 6};
    for (int i = 0; i < 40; i++) {  // enough to grow the array twice
        char name[32];
        snprintf(name, sizeof name, "layer%d.weight", i);
        CHECK(gb_sd_add(&sd, name, 2, shape, GB_DT_F32, v) == GB_OK);
    }
    gb_sd_entry *e = gb_sd_find(&sd, "layer17.weight");
    CHECK(e && e->numel == 6 && e->data[5] == 6 && e->shape[1] == 3);
    CHECK(gb_sd_find(&sd, "layer40.weight") == NULL);
    int64_t bad[1] = {-1};
    CHECK(gb_sd_add(&sd, "x", 1, bad, GB_DT_F32, NULL) == GB_ERR_ARG);
    CHECK(gb_sd_add(&sd, "x", 9, shape, GB_DT_F32, NULL) == GB_ERR_ARG);
    CHECK(gb_sd_add(&sd, "scalar", 0, NULL, GB_DT_I64, NULL) == GB_OK);
    CHECK(gb_sd_find(&sd, "scalar")->numel == 1);
    gb_sd_free(&sd);
    CHECK(sd.n == 0 && sd.entries == NULL);
    gb_sd_free(&sd);   // harmless twice
}

static void test_truncated_report(void) {
    gb_state_dict sd = {0};
    int64_t s[1] = {3};
    gb_sd_add(&sd, "a.weight", 1, s, GB_DT_F32, NULL);
    gb_sd_expect want[2] = {{.name = "a.weight", .ndim = 1, .shape = {4}}, {.name = "a.bias", .ndim = 1, .shape = {4}}};
    char small[24];
    CHECK(gb_sd_compare(&sd, "Net", want, 2, small, sizeof small) == GB_ERR_MISMATCH);
    CHECK(strlen(small) == sizeof small - 1 && strncmp(small, "Error(s) in loading", 19) == 0, "%s", small);
    CHECK(gb_sd_compare(&sd, "Net", want, 2, NULL, 0) == GB_ERR_MISMATCH);
    gb_sd_free(&sd);
}

// A timm-style safetensors file has no num_batches_tracked: torch fills them in, no error.
static void test_optional_buffers(void) {
    gb_state_dict sd = {0};
    int64_t s[1] = {4};
    gb_sd_add(&sd, "bn1.weight", 1, s, GB_DT_F32, NULL);
    gb_sd_expect want[2] = {{.name = "bn1.weight", .ndim = 1, .shape = {4}}, {.name = "bn1.num_batches_tracked"}};
    char report[256];
    CHECK(gb_sd_compare(&sd, "ResNet", want, 2, report, sizeof report) == GB_OK && report[0] == '\0', "%s", report);
    CHECK(gb_sd_is_optional("num_batches_tracked") && gb_sd_is_optional("layer1.0.bn1.num_batches_tracked"));
    CHECK(!gb_sd_is_optional("bn1.my_num_batches_tracked") && !gb_sd_is_optional("bn1.weight"));
    gb_sd_free(&sd);
}

// Many keys (a hostile file may hold a million): lookups are sorted, so this is quick.
static void test_many_keys(void) {
    gb_state_dict sd = {0};
    for (int i = 0; i < 200000; i++) {
        char name[48];
        snprintf(name, sizeof name, "layer%d.block%d.w", i % 7, i);
        gb_sd_add(&sd, name, 0, NULL, GB_DT_F32, NULL);
    }
    gb_sd_expect want[3] = {{.name = "layer3.block3.w"}, {.name = "layer3.block10.w"}, {.name = "fc.weight"}};
    char report[512];
    CHECK(gb_sd_compare(&sd, "Net", want, 3, report, sizeof report) == GB_ERR_MISMATCH);
    const char *want_start = "Error(s) in loading state_dict for Net:\n\tMissing key(s) in state_dict: \"fc.weight\". "
                             "\n\tUnexpected key(s) in state_dict: \"layer0.block0.w\", \"layer1.block1.w\"";
    CHECK(strncmp(report, want_start, strlen(want_start)) == 0, "%s", report);
    gb_sd_free(&sd);
}

int main(void) {
    test_many_keys();
    test_basics();
    test_optional_buffers();
    test_torch_messages();
    test_truncated_report();
    return finish("test_state_dict");
}
