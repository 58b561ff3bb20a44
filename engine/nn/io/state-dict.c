// state-dict.c: the neutral state dict, and the load_state_dict(strict=True)
// report that says how a loaded one fails to fit a model.
#include "gb_state_dict.h"

#include <stdarg.h>
#include <string.h>

void gb_sd_free(gb_state_dict *sd) {
    for (int i = 0; i < sd->n; i++) {
        free(sd->entries[i].name);
        free(sd->entries[i].data);
    }
    free(sd->entries);
    *sd = (gb_state_dict){0};
}

gb_sd_entry *gb_sd_find(const gb_state_dict *sd, const char *name) {
    for (int i = 0; i < sd->n; i++)
        if (strcmp(sd->entries[i].name, name) == 0) return &sd->entries[i];
    return NULL;
}

int64_t gb_sd_numel(int ndim, const int64_t *shape) {
    int64_t n = 1;
    for (int d = 0; d < ndim; d++) n *= shape[d];
    return n;
}

const char *gb_dtype_src_name(int dtype_src) {
    static const char *names[GB_DT_COUNT] = {"float32", "float16", "bfloat16", "float64", "int64",
                                             "int32",   "int16",   "int8",     "uint8",   "bool"};
    return (dtype_src >= 0 && dtype_src < GB_DT_COUNT) ? names[dtype_src] : "?";
}

gb_status gb_sd_add(gb_state_dict *sd, const char *name, int ndim, const int64_t *shape,
                    int dtype_src, const float *data) {
    if (ndim < 0 || ndim > GB_SD_MAX_NDIM)
        return gb_set_error(GB_ERR_ARG, "state_dict: '%.80s' has %d dims (at most %d)", name,
                            ndim, GB_SD_MAX_NDIM);
    int64_t numel = 1;
    for (int d = 0; d < ndim; d++) {
        if (shape[d] < 0 || (shape[d] > 0 && numel > GB_SD_MAX_TOTAL_NUMEL / shape[d]))
            return gb_set_error(GB_ERR_ARG, "state_dict: '%.80s' has a bad shape", name);
        numel *= shape[d];
    }
    if (sd->n == sd->cap) {
        int cap = sd->cap ? 2 * sd->cap : 16;
        gb_sd_entry *grown = realloc(sd->entries, (size_t)cap * sizeof *grown);
        if (!grown) return gb_set_error(GB_ERR_NOMEM, "state_dict: out of memory");
        sd->entries = grown;
        sd->cap = cap;
    }
    gb_sd_entry *e = &sd->entries[sd->n];
    *e = (gb_sd_entry){.ndim = ndim, .dtype_src = dtype_src, .numel = numel};
    if (ndim) memcpy(e->shape, shape, (size_t)ndim * sizeof *shape);
    size_t name_len = strlen(name);
    e->name = malloc(name_len + 1);
    e->data = calloc(numel ? (size_t)numel : 1, sizeof(float));
    if (!e->name || !e->data) {
        free(e->name);
        free(e->data);
        return gb_set_error(GB_ERR_NOMEM, "state_dict: out of memory for '%.80s'", name);
    }
    memcpy(e->name, name, name_len + 1);
    if (data) memcpy(e->data, data, (size_t)numel * sizeof(float));
    sd->n++;
    return GB_OK;
}

// ---- the load_state_dict(strict=True) report -------------------------------

// A bounded string builder: appends never overflow, the text stays terminated.
typedef struct {
    char *buf;
    size_t cap, len;
} text_out;

static void put(text_out *t, const char *fmt, ...) {
    if (t->cap == 0) return;
    size_t room = t->len < t->cap ? t->cap - t->len : 0;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(t->buf + t->len, room, fmt, ap);
    va_end(ap);
    if (k > 0) t->len += (size_t)k < room ? (size_t)k : (room ? room - 1 : 0);
}

static void put_size(text_out *t, int ndim, const int64_t *shape) {
    put(t, "torch.Size([");
    for (int d = 0; d < ndim; d++) put(t, d ? ", %lld" : "%lld", (long long)shape[d]);
    put(t, "])");
}

// Lookups by name, sorted once: a hostile file may hold a million keys.
typedef struct {
    const char *s;
    size_t len;
    int index;   // into `expected` (for a module: its first tensor, i.e. its pre-order position)
} name_ref;

static int ref_cmp(const void *a, const void *b) {
    const name_ref *x = a, *y = b;
    int c = memcmp(x->s, y->s, x->len < y->len ? x->len : y->len);
    if (c) return c;
    if (x->len != y->len) return x->len < y->len ? -1 : 1;
    return (x->index > y->index) - (x->index < y->index);
}

static const name_ref *lookup(const name_ref *refs, int n, const char *s, size_t len) {
    int lo = 0, hi = n;   // the first ref >= (s, len), so duplicates yield the lowest index
    name_ref key = {s, len, -1};
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (ref_cmp(&refs[mid], &key) < 0) lo = mid + 1;
        else hi = mid;
    }
    return lo < n && refs[lo].len == len && memcmp(refs[lo].s, s, len) == 0 ? &refs[lo] : NULL;
}

typedef struct {
    name_ref *tensors;   // expected names
    name_ref *modules;   // every dotted prefix of an expected name: "layer1", "layer1.0", ...
    name_ref *have;      // the loaded names (index into have->entries)
    int n_tensors, n_modules, n_have;
} name_index;

static name_ref *sorted_refs(int n) { return malloc(((size_t)n + 1) * sizeof(name_ref)); }

static int index_build(name_index *x, const gb_state_dict *have, const gb_sd_expect *expected, int n) {
    int n_dots = 0;
    for (int i = 0; i < n; i++)
        for (const char *c = expected[i].name; *c; c++) n_dots += *c == '.';
    *x = (name_index){sorted_refs(n), sorted_refs(n_dots), sorted_refs(have->n), n, 0, have->n};
    if (!x->tensors || !x->modules || !x->have) return 0;
    for (int i = 0; i < n; i++) {
        const char *name = expected[i].name;
        x->tensors[i] = (name_ref){name, strlen(name), i};
        for (const char *c = name; *c; c++)
            if (*c == '.') x->modules[x->n_modules++] = (name_ref){name, (size_t)(c - name), i};
    }
    for (int i = 0; i < have->n; i++)
        x->have[i] = (name_ref){have->entries[i].name, strlen(have->entries[i].name), i};
    qsort(x->tensors, (size_t)n, sizeof(name_ref), ref_cmp);
    qsort(x->modules, (size_t)x->n_modules, sizeof(name_ref), ref_cmp);
    qsort(x->have, (size_t)have->n, sizeof(name_ref), ref_cmp);
    return 1;
}

static void index_free(name_index *x) {
    free(x->tensors);
    free(x->modules);
    free(x->have);
}

static const gb_sd_entry *have_find(const name_index *x, const gb_state_dict *have, const char *name) {
    const name_ref *r = lookup(x->have, x->n_have, name, strlen(name));
    return r ? &have->entries[r->index] : NULL;
}

// A module's pre-order position is the index of the first expected name under
// it, since state_dict lists a module's own tensors before its children's.
// "" is the root (-1); n means "not a module".
static int module_order(const name_index *x, const char *path, size_t len) {
    if (len == 0) return -1;
    const name_ref *r = lookup(x->modules, x->n_modules, path, len);
    return r ? r->index : x->n_tensors;
}

// Where torch notices a key the model does not expect: at the deepest module
// P whose path prefixes it. P looks only at the key's next component f, and
// stays silent when P.f names one of its tensors or children ("conv1.weight.x"
// and "fc" pass unnoticed). Returns P's pre-order position, or n + 1 for silence.
static int unexpected_at(const name_index *x, const char *key) {
    int n = x->n_tensors, order = -1;
    size_t len = strlen(key), rest = 0;
    for (size_t i = len; i-- > 0;) {
        if (key[i] != '.') continue;
        int o = module_order(x, key, i);
        if (o < n) { order = o; rest = i + 1; break; }
    }
    const char *dot = strchr(key + rest, '.');
    size_t f_end = dot ? (size_t)(dot - key) : len;
    if (f_end > 0 && module_order(x, key, f_end) < n) return n + 1;
    if (lookup(x->tensors, n, key, f_end)) return n + 1;
    return order;
}

static int shape_fits(const gb_sd_entry *have, const gb_sd_expect *want) {
    // torch: "Backward compatibility: loading 1-dim tensor from 0.3.* to version 0.4+".
    if (want->ndim == 0 && have->ndim == 1 && have->shape[0] >= 1) return 1;
    if (have->ndim != want->ndim) return 0;
    for (int d = 0; d < want->ndim; d++)
        if (have->shape[d] != want->shape[d]) return 0;
    return 1;
}

// BatchNorm fills in a missing num_batches_tracked (with 0) when the state
// dict carries no version metadata, as safetensors files and converted
// checkpoints never do; so torch does not report it missing, and nor do we.
int gb_sd_is_optional(const char *name) {
    size_t n = strlen(name), k = strlen("num_batches_tracked");
    return n >= k && strcmp(name + n - k, "num_batches_tracked") == 0 && (n == k || name[n - k - 1] == '.');
}

static int put_missing(text_out *t, const name_index *x, const gb_state_dict *have,
                       const gb_sd_expect *expected, int n) {
    int count = 0;
    for (int i = 0; i < n; i++) {
        if (have_find(x, have, expected[i].name) || gb_sd_is_optional(expected[i].name)) continue;
        put(t, count++ ? ", \"%s\"" : "\n\tMissing key(s) in state_dict: \"%s\"", expected[i].name);
    }
    if (count) put(t, ". ");
    return count;
}

typedef struct { int order, index; } noticed;

static int by_order(const void *a, const void *b) {
    const noticed *x = a, *y = b;
    if (x->order != y->order) return x->order < y->order ? -1 : 1;
    return (x->index > y->index) - (x->index < y->index);
}

// Grouped by the module that notices them, in module pre-order, then file order.
static int put_unexpected(text_out *t, const name_index *x, const gb_state_dict *have) {
    noticed *list = malloc(((size_t)have->n + 1) * sizeof *list);
    if (!list) return -1;
    int count = 0;
    for (int i = 0; i < have->n; i++) {
        const char *key = have->entries[i].name;
        if (lookup(x->tensors, x->n_tensors, key, strlen(key))) continue;
        int order = unexpected_at(x, key);
        if (order <= x->n_tensors) list[count++] = (noticed){order, i};
    }
    qsort(list, (size_t)count, sizeof *list, by_order);
    for (int k = 0; k < count; k++)
        put(t, k ? ", \"%s\"" : "\n\tUnexpected key(s) in state_dict: \"%s\"", have->entries[list[k].index].name);
    if (count) put(t, ". ");
    free(list);
    return count;
}

gb_status gb_sd_compare(const gb_state_dict *have, const char *model_name,
                        const gb_sd_expect *expected, int n, char *report, size_t cap) {
    text_out t = {report, cap, 0};
    if (cap) report[0] = '\0';
    name_index x;
    int unexpected = -1;
    if (index_build(&x, have, expected, n)) {
        put(&t, "Error(s) in loading state_dict for %s:", model_name);
        int missing = put_missing(&t, &x, have, expected, n);
        unexpected = put_unexpected(&t, &x, have);
        if (unexpected >= 0) unexpected += missing;
    }
    if (unexpected < 0) {
        index_free(&x);
        return gb_set_error(GB_ERR_NOMEM, "state_dict: out of memory comparing keys");
    }
    int errors = unexpected;
    for (int i = 0; i < n; i++) {
        const gb_sd_entry *e = have_find(&x, have, expected[i].name);
        if (!e || shape_fits(e, &expected[i])) continue;
        put(&t, "\n\tsize mismatch for %s: copying a param with shape ", expected[i].name);
        put_size(&t, e->ndim, e->shape);
        put(&t, " from checkpoint, the shape in current model is ");
        put_size(&t, expected[i].ndim, expected[i].shape);
        put(&t, ".");
        errors++;
    }
    index_free(&x);
    if (errors == 0) {
        if (cap) report[0] = '\0';
        return GB_OK;
    }
    return gb_set_error(GB_ERR_MISMATCH, "%s", cap ? report : "state_dict does not fit the model");
}
