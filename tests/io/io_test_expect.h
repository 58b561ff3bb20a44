// io_test_expect.h: comparing state dicts with each other and with the
// values PyTorch wrote into tests/fixtures/io/expected.json.
#ifndef IO_TEST_EXPECT_H
#define IO_TEST_EXPECT_H

#include "gb_json.h"
#include "io_test_util.h"

// Compares a state dict with the fixture's expected.json entry for `file`.
static inline void check_expected(const gb_state_dict *sd, const char *file) {
    size_t len;
    uint8_t *text = read_fixture("expected.json", &len);
    gb_json_doc d;
    CHECK(gb_json_parse((const char *)text, len, &d, "expected.json") == GB_OK, "%s", gb_last_error());
    const gb_json_node *list = NULL;
    for (int c = d.nodes[0].first_child; c >= 0; c = d.nodes[c].next)
        if (strcmp(d.nodes[c].key, file) == 0) list = &d.nodes[c];
    CHECK(list && list->n_children == sd->n, "%s: %d entries", file, sd->n);
    int i = 0;
    for (int c = list ? list->first_child : -1; c >= 0 && i < sd->n; c = d.nodes[c].next, i++) {
        const gb_sd_entry *e = &sd->entries[i];
        const gb_json_node *f[4] = {0};
        for (int k = d.nodes[c].first_child; k >= 0; k = d.nodes[k].next) {
            const char *key = d.nodes[k].key;
            int slot = !strcmp(key, "name") ? 0 : !strcmp(key, "dtype") ? 1 : !strcmp(key, "shape") ? 2 : 3;
            f[slot] = &d.nodes[k];
        }
        CHECK(strcmp(e->name, f[0]->str) == 0, "%s: entry %d is '%s', want '%s'", file, i, e->name, f[0]->str);
        CHECK(strcmp(gb_dtype_src_name(e->dtype_src), f[1]->str) == 0, "%s: %s dtype %s", file, e->name,
              gb_dtype_src_name(e->dtype_src));
        CHECK(e->ndim == f[2]->n_children, "%s: %s ndim", file, e->name);
        int dim = 0;
        for (int k = f[2]->first_child; k >= 0; k = d.nodes[k].next, dim++)
            CHECK(e->shape[dim] == (int64_t)d.nodes[k].u, "%s: %s shape", file, e->name);
        CHECK(e->numel == f[3]->n_children, "%s: %s numel", file, e->name);
        int64_t at = 0;
        for (int k = f[3]->first_child; k >= 0 && at < e->numel; k = d.nodes[k].next, at++)
            CHECK(e->data[at] == (float)d.nodes[k].num, "%s: %s[%lld] = %g, want %g", file, e->name,
                  (long long)at, e->data[at], d.nodes[k].num);
    }
    gb_json_free(&d);
    free(text);
}

static inline void same_state_dict(const gb_state_dict *a, const gb_state_dict *b, const char *what) {
    CHECK(a->n == b->n, "%s: %d vs %d entries", what, a->n, b->n);
    for (int i = 0; i < a->n && i < b->n; i++) {
        const gb_sd_entry *x = &a->entries[i], *y = &b->entries[i];
        CHECK(strcmp(x->name, y->name) == 0 && x->ndim == y->ndim && x->numel == y->numel, "%s: %s", what, x->name);
        CHECK(memcmp(x->shape, y->shape, (size_t)x->ndim * sizeof x->shape[0]) == 0, "%s: %s shape", what, x->name);
        CHECK(memcmp(x->data, y->data, (size_t)x->numel * sizeof(float)) == 0, "%s: %s data", what, x->name);
        int want = x->dtype_src == GB_DT_I64 ? GB_DT_I64 : GB_DT_F32;
        CHECK(y->dtype_src == want, "%s: %s dtype %d", what, x->name, y->dtype_src);
    }
}

#endif
