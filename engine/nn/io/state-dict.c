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

static int find_expected(const gb_sd_expect *expected, int n, const char *name) {
    for (int i = 0; i < n; i++)
        if (strcmp(expected[i].name, name) == 0) return i;
    return -1;
}

// A module path is a proper dotted prefix of some expected name ("layer1",
// "layer1.0"); "" is the root. Its position in pre-order is the index of the
// first expected name under it, since state_dict lists a module's own
// tensors before its children's.
static int module_order(const gb_sd_expect *expected, int n, const char *path, size_t len) {
    if (len == 0) return -1;  // the root comes first
    for (int i = 0; i < n; i++)
        if (strncmp(expected[i].name, path, len) == 0 && expected[i].name[len] == '.') return i;
    return n;  // not a module
}

// Where torch notices a key the model does not expect: at the deepest module
// P whose path prefixes it. P looks only at the key's next component f, and
// stays silent when P.f names one of its tensors or children ("conv1.weight.x"
// and "fc" pass unnoticed). Returns P's pre-order position, or n + 1 for silence.
static int unexpected_at(const gb_sd_expect *expected, int n, const char *key) {
    size_t len = strlen(key), rest = 0;
    int order = -1;
    for (size_t i = len; i-- > 0;) {
        if (key[i] != '.') continue;
        int o = module_order(expected, n, key, i);
        if (o < n) { order = o; rest = i + 1; break; }
    }
    const char *dot = strchr(key + rest, '.');
    size_t f_end = dot ? (size_t)(dot - key) : len;
    if (f_end > 0 && module_order(expected, n, key, f_end) < n) return n + 1;
    for (int i = 0; i < n; i++)
        if (strncmp(expected[i].name, key, f_end) == 0 && expected[i].name[f_end] == '\0') return n + 1;
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

static int put_missing(text_out *t, const gb_state_dict *have, const gb_sd_expect *expected,
                       int n) {
    int count = 0;
    for (int i = 0; i < n; i++) {
        if (gb_sd_find(have, expected[i].name) || gb_sd_is_optional(expected[i].name)) continue;
        put(t, count++ ? ", \"%s\"" : "\n\tMissing key(s) in state_dict: \"%s\"", expected[i].name);
    }
    if (count) put(t, ". ");
    return count;
}

static int put_unexpected(text_out *t, const gb_state_dict *have, const gb_sd_expect *expected,
                          int n) {
    // Grouped by the module that notices them, in module pre-order, then file order.
    int count = 0;
    for (int order = -1; order < n; order++) {
        for (int i = 0; i < have->n; i++) {
            const char *key = have->entries[i].name;
            if (find_expected(expected, n, key) >= 0) continue;
            if (unexpected_at(expected, n, key) != order) continue;
            put(t, count++ ? ", \"%s\"" : "\n\tUnexpected key(s) in state_dict: \"%s\"", key);
        }
    }
    if (count) put(t, ". ");
    return count;
}

gb_status gb_sd_compare(const gb_state_dict *have, const char *model_name,
                        const gb_sd_expect *expected, int n, char *report, size_t cap) {
    text_out t = {report, cap, 0};
    if (cap) report[0] = '\0';
    put(&t, "Error(s) in loading state_dict for %s:", model_name);
    int errors = put_missing(&t, have, expected, n);
    errors += put_unexpected(&t, have, expected, n);
    for (int i = 0; i < n; i++) {
        const gb_sd_entry *e = gb_sd_find(have, expected[i].name);
        if (!e || shape_fits(e, &expected[i])) continue;
        put(&t, "\n\tsize mismatch for %s: copying a param with shape ", expected[i].name);
        put_size(&t, e->ndim, e->shape);
        put(&t, " from checkpoint, the shape in current model is ");
        put_size(&t, expected[i].ndim, expected[i].shape);
        put(&t, ".");
        errors++;
    }
    if (errors == 0) {
        if (cap) report[0] = '\0';
        return GB_OK;
    }
    return gb_set_error(GB_ERR_MISMATCH, "%s", cap ? report : "state_dict does not fit the model");
}
