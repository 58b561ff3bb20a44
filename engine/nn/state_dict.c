// state_dict.c: state_dict() and load_state_dict() for a module tree.
#include "gb_state.h"

#include <stdlib.h>
#include <string.h>

// The model's state items, malloc'd (freed by the caller); NULL when out of memory.
static gb_state_item *all_items(gb_module *root, int *n) {
    *n = gb_module_state_items(root, 1, NULL, 0);
    gb_state_item *items = malloc(sizeof *items * (size_t)(*n ? *n : 1));
    if (items) gb_module_state_items(root, 1, items, *n);
    else gb_set_error(GB_ERR_NOMEM, "out of memory listing the state_dict");
    return items;
}

int gb_module_expected_keys(gb_module *root, gb_sd_expect *out, int cap) {
    int n;
    gb_state_item *items = all_items(root, &n);
    if (!items) return -1;
    for (int i = 0; i < n && i < cap; i++) {
        gb_sd_expect *e = &out[i];
        memset(e, 0, sizeof *e);
        e->name = items[i].key;
        if (items[i].t) {   // num_batches_tracked: a 0-d tensor
            e->ndim = items[i].t->ndim;
            for (int d = 0; d < e->ndim; d++) e->shape[d] = items[i].t->shape[d];
        }
    }
    free(items);
    return n;
}

// load_state_dict with strict (every key of the model expected) or not (only
// the keys the file has: the rest keep their values).
static gb_status load(gb_module *root, const char *model_name, const gb_state_dict *sd, int strict, char *report,
                      size_t cap) {
    int n;
    gb_state_item *items = all_items(root, &n);
    gb_sd_expect *expected = malloc(sizeof *expected * (size_t)(n ? n : 1));
    if (!items || !expected) {
        free(items);
        free(expected);
        return gb_set_error(GB_ERR_NOMEM, "out of memory loading a state_dict");
    }
    gb_module_expected_keys(root, expected, n);
    int k = 0;   // strict=False: torch reports no missing key, so expect only what the file has
    for (int i = 0; i < n; i++)
        if (strict || gb_sd_find(sd, expected[i].name)) expected[k++] = expected[i];
    gb_status s = gb_sd_compare(sd, model_name, expected, k, report, cap);
    // Everything fits: copy (torch: param.copy_(input_param) under no_grad).
    for (int i = 0; s == GB_OK && i < n; i++) {
        const gb_sd_entry *e = gb_sd_find(sd, items[i].key);
        if (!strict && !e) continue;
        if (items[i].i64) {
            *items[i].i64 = e ? (int64_t)e->data[0] : 0;
            continue;
        }
        GB_ASSERT(e && e->numel == items[i].t->numel, "gb_sd_compare let %s through", items[i].key);
        memcpy(items[i].t->data, e->data, sizeof(float) * (size_t)e->numel);
        items[i].t->version++;   // new values: derived caches (Winograd, packed weights) are stale
    }
    free(items);
    free(expected);
    return s;
}

gb_status gb_module_load_state_dict(gb_module *root, const char *model_name, const gb_state_dict *sd,
                                    char *report, size_t cap) {
    return load(root, model_name, sd, 1, report, cap);
}

gb_status gb_module_load_state_dict_partial(gb_module *root, const char *model_name, const gb_state_dict *sd,
                                            char *report, size_t cap) {
    return load(root, model_name, sd, 0, report, cap);
}

gb_status gb_module_state_dict(gb_module *root, gb_state_dict *out) {
    return gb_module_state_dict_keys(root, NULL, 0, out);
}

// Whether key starts with one of the n prefixes (n = 0: every key does).
static int wanted(const char *key, const char *const *prefixes, int n) {
    for (int i = 0; i < n; i++)
        if (strncmp(key, prefixes[i], strlen(prefixes[i])) == 0) return 1;
    return n == 0;
}

gb_status gb_module_state_dict_keys(gb_module *root, const char *const *prefixes, int n_prefixes,
                                    gb_state_dict *out) {
    int n;
    gb_state_item *items = all_items(root, &n);
    if (!items) return GB_ERR_NOMEM;
    gb_status s = GB_OK;
    for (int i = 0; s == GB_OK && i < n; i++) {
        if (!wanted(items[i].key, prefixes, n_prefixes)) continue;
        int64_t shape[GB_SD_MAX_NDIM] = { 0 };
        if (items[i].i64) {
            float v = (float)*items[i].i64;   // exact up to 2^24 batches (gb_state_dict.h)
            s = gb_sd_add(out, items[i].key, 0, shape, GB_DT_I64, &v);
            continue;
        }
        const gb_tensor *t = items[i].t;
        for (int d = 0; d < t->ndim; d++) shape[d] = t->shape[d];
        s = gb_sd_add(out, items[i].key, t->ndim, shape, GB_DT_F32, t->data);
    }
    free(items);
    return s;
}
