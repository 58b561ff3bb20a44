// test_nn_state_dict.c: state_dict() out and load_state_dict(strict=True) in,
// with torch 1.13's report for missing, unexpected and mis-shaped keys.
#include "../nn/nn_fixtures.h"
#include "gb_test.h"
#include "nn/gb_resnet18.h"
#include "nn/gb_state.h"

static char report[4096];

// The fixture's text for a case ("=== mixed" up to the next "===").
static char *expected_report(const char *fx, const char *name) {
    char head[64];
    snprintf(head, sizeof head, "=== %s\n", name);
    const char *p = nn_find_line(fx, head);
    if (!p) return NULL;
    p += strlen(head);
    const char *end = strstr(p, "\n===");
    size_t len = end ? (size_t)(end - p) : strlen(p) - 1;   // without the final newline
    char *s = malloc(len + 1);
    memcpy(s, p, len);
    s[len] = '\0';
    return s;
}

static void check_report(const char *fx, const char *name, gb_status got) {
    char *want = expected_report(fx, name);
    CHECK(want != NULL, "case %s", name);
    if (!want) return;
    if (strcmp(want, "OK") == 0) CHECK(got == GB_OK, "%s: %s", name, report);
    else {
        CHECK(got == GB_ERR_MISMATCH, "%s", name);
        CHECK(strcmp(want, report) == 0, "%s report:\n%s\nwant:\n%s", name, report, want);
    }
    free(want);
}

static int remove_key(gb_state_dict *sd, const char *name) {
    for (int i = 0; i < sd->n; i++) {
        if (strcmp(sd->entries[i].name, name) != 0) continue;
        free(sd->entries[i].name);
        free(sd->entries[i].data);
        memmove(&sd->entries[i], &sd->entries[i + 1], sizeof sd->entries[0] * (size_t)(sd->n - i - 1));
        sd->n--;
        return 1;
    }
    return 0;
}

static void replace_shape(gb_state_dict *sd, const char *name, int ndim, const int64_t *shape) {
    CHECK(remove_key(sd, name));
    CHECK(gb_sd_add(sd, name, ndim, shape, GB_DT_F32, NULL) == GB_OK);
}

int main(void) {
    char *fx = nn_read_fixture("load_reports.txt");
    gb_model a, b;
    CHECK(gb_resnet18_new(&a, 1000) == GB_OK && gb_resnet18_new(&b, 1000) == GB_OK);
    gb_resnet18_init(&a, NULL, 1);
    gb_module *bn;
    gb_module_find(a.root, "layer2.0.bn1", &bn);
    bn->bn.num_batches_tracked = 37;
    bn->buffers[0]->data[3] = 0.25f;

    // state_dict(): 122 entries in torch's order, num_batches_tracked as int64.
    gb_state_dict sd = { 0 };
    CHECK(gb_module_state_dict(a.root, &sd) == GB_OK);
    CHECK(sd.n == 122, "%d entries", sd.n);
    CHECK(strcmp(sd.entries[0].name, "conv1.weight") == 0 && strcmp(sd.entries[121].name, "fc.bias") == 0);
    gb_sd_entry *e = gb_sd_find(&sd, "layer2.0.bn1.num_batches_tracked");
    CHECK(e && e->dtype_src == GB_DT_I64 && e->ndim == 0 && e->data[0] == 37.0f);

    // Load it into another model: every value arrives.
    CHECK(gb_module_load_state_dict(b.root, "ResNet", &sd, report, sizeof report) == GB_OK, "%s", report);
    gb_tensor *pa[62], *pb[62];
    gb_module_parameters(a.root, pa, 62);
    gb_module_parameters(b.root, pb, 62);
    int same = 1;
    for (int i = 0; i < 62; i++) same &= memcmp(pa[i]->data, pb[i]->data, sizeof(float) * (size_t)pa[i]->numel) == 0;
    CHECK(same, "parameters copied");
    gb_module_find(b.root, "layer2.0.bn1", &bn);
    CHECK(bn->bn.num_batches_tracked == 37 && bn->buffers[0]->data[3] == 0.25f);

    // Through safetensors bytes and back (what the page exports and imports).
    uint8_t *bytes;
    size_t len;
    gb_state_dict back = { 0 };
    CHECK(gb_safetensors_write(&sd, &bytes, &len) == GB_OK, "%s", gb_last_error());
    CHECK(gb_safetensors_read(bytes, len, &back) == GB_OK, "%s", gb_last_error());
    pb[7]->data[1] += 1;
    CHECK(gb_module_load_state_dict(b.root, "ResNet", &back, report, sizeof report) == GB_OK, "%s", report);
    CHECK(memcmp(pa[7]->data, pb[7]->data, sizeof(float) * (size_t)pa[7]->numel) == 0 && bn->bn.num_batches_tracked == 37);
    free(bytes);
    gb_sd_free(&back);

    // Without num_batches_tracked (102 keys, older checkpoints): loads, counters 0.
    gb_state_dict old = { 0 };
    for (int i = 0; i < sd.n; i++)
        if (!strstr(sd.entries[i].name, "num_batches_tracked"))
            gb_sd_add(&old, sd.entries[i].name, sd.entries[i].ndim, sd.entries[i].shape, GB_DT_F32, sd.entries[i].data);
    CHECK(old.n == 102);
    check_report(fx, "no_nbt", gb_module_load_state_dict(b.root, "ResNet", &old, report, sizeof report));
    CHECK(bn->bn.num_batches_tracked == 0);

    // torch's report, byte for byte; nothing is copied.
    float before = pb[0]->data[0];
    remove_key(&sd, "fc.bias");
    remove_key(&sd, "layer1.0.bn1.running_var");
    const int64_t three[1] = { 3 }, fc10[2] = { 10, 512 }, conv3[4] = { 64, 3, 3, 3 };
    gb_sd_add(&sd, "foo.weight", 1, three, GB_DT_F32, NULL);
    replace_shape(&sd, "fc.weight", 2, fc10);
    pb[0]->data[0] = before + 1;
    check_report(fx, "mixed", gb_module_load_state_dict(b.root, "ResNet", &sd, report, sizeof report));
    CHECK(pb[0]->data[0] == before + 1, "a failed load changes nothing");
    replace_shape(&old, "conv1.weight", 4, conv3);
    check_report(fx, "mismatch", gb_module_load_state_dict(b.root, "ResNet", &old, report, sizeof report));

    // gb_module_expected_keys: names and shapes for the readers' checks.
    gb_sd_expect ex[130];
    CHECK(gb_module_expected_keys(a.root, ex, 130) == 122);
    CHECK(strcmp(ex[5].name, "bn1.num_batches_tracked") == 0 && ex[5].ndim == 0);
    CHECK(ex[120].ndim == 2 && ex[120].shape[0] == 1000 && ex[120].shape[1] == 512);

    gb_sd_free(&sd);
    gb_sd_free(&old);
    gb_resnet18_free(&a);
    gb_resnet18_free(&b);
    free(fx);
    return gb_test_done("test_nn_state_dict");
}
