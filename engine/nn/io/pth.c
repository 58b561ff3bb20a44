// pth.c: PyTorch checkpoints (torch.save since 1.6): a zip whose records are
//   <prefix>/data.pkl    the object, pickled; tensors refer to storages by key
//   <prefix>/data/<key>  each storage's raw little-endian bytes
//   <prefix>/version     "3\n"
// <prefix> is whatever the file was saved as ("archive", "resnet18-f37072fd").
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gb_io_internal.h"
#include "gb_pickle.h"
#include "gb_zip.h"

#define MAX_PICKLE_BYTES ((size_t)64 << 20)

typedef struct {
    gb_zip zip;
    char prefix[128];     // "archive/" (with the slash)
    size_t prefix_len;
} pth_archive;

static gb_status find_prefix(pth_archive *a) {
    const gb_zip_entry *first = &a->zip.first;
    const char *slash = memchr(first->name, '/', first->name_len);
    size_t n = slash ? (size_t)(slash - first->name) + 1 : 0;
    if (!slash || n >= sizeof a->prefix || memchr(first->name, '\0', n))
        return gb_set_error(GB_ERR_FORMAT, "pth: the zip's first entry '%.*s' is not inside a folder "
                            "(not a torch.save file)",
                            (int)(first->name_len > 100 ? 100 : first->name_len), first->name);
    memcpy(a->prefix, first->name, n);
    a->prefix[n] = '\0';
    a->prefix_len = n;
    return GB_OK;
}

static gb_status record(const pth_archive *a, const char *suffix, size_t suffix_len,
                        const uint8_t **data, size_t *size) {
    char name[512];
    if (suffix_len >= sizeof name - a->prefix_len)
        return gb_set_error(GB_ERR_FORMAT, "pth: record name too long");
    memcpy(name, a->prefix, a->prefix_len);
    memcpy(name + a->prefix_len, suffix, suffix_len);
    const gb_zip_entry *e = gb_zip_find(&a->zip, name, a->prefix_len + suffix_len);
    if (!e)
        return gb_set_error(GB_ERR_FORMAT, "pth: the archive has no record '%.*s'",
                            (int)(a->prefix_len + (suffix_len > 100 ? 100 : suffix_len)), name);
    return gb_zip_data(&a->zip, e, data, size);
}

// torch 2.1+ records the byte order; older files are little-endian.
static gb_status check_byteorder(const pth_archive *a) {
    char name[160];
    snprintf(name, sizeof name, "%sbyteorder", a->prefix);
    const gb_zip_entry *e = gb_zip_find(&a->zip, name, strlen(name));
    const uint8_t *data;
    size_t size;
    if (!e) return GB_OK;
    GB_TRY(gb_zip_data(&a->zip, e, &data, &size));
    if (size == 6 && memcmp(data, "little", 6) == 0) return GB_OK;
    return gb_set_error(GB_ERR_FORMAT, "pth: %s is not 'little' (big-endian checkpoints are not supported)", name);
}

// The tensor's elements must lie inside its storage: the largest index it
// touches is offset + sum((size_d - 1) * stride_d), computed without overflow.
static gb_status check_extent(const char *name, gb_pk_tensor *t, int64_t storage_numel,
                              int64_t *numel) {
    for (int d = 0; d < t->ndim; d++)
        if (t->shape[d] == 1) t->stride[d] = 0;   // never stepped; keeps the odometer in range
    int64_t n = 1;
    for (int d = 0; d < t->ndim; d++) {
        if (t->shape[d] && n > GB_SD_MAX_TOTAL_NUMEL / t->shape[d])
            return gb_set_error(GB_ERR_FORMAT, "pth: tensor '%.100s' is larger than this loader allows", name);
        n *= t->shape[d];
    }
    *numel = n;
    if (n == 0) return GB_OK;
    int64_t last = t->offset;
    int ok = t->offset < storage_numel;
    for (int d = 0; ok && d < t->ndim; d++) {
        int64_t span = t->shape[d] - 1;
        ok = t->stride[d] == 0 || span <= (storage_numel - 1 - last) / t->stride[d];
        if (ok) last += span * t->stride[d];
    }
    if (!ok)
        return gb_set_error(GB_ERR_FORMAT, "pth: tensor '%.100s' reaches past the end of its storage "
                            "(%lld elements)", name, (long long)storage_numel);
    return GB_OK;
}

static int is_contiguous(const gb_pk_tensor *t) {
    int64_t expect = 1;
    for (int d = t->ndim - 1; d >= 0; d--) {
        if (t->shape[d] != 1 && t->stride[d] != expect) return 0;
        expect *= t->shape[d];
    }
    return 1;
}

// Copies the (possibly strided) tensor into dst in row-major order.
static void gather(const uint8_t *src, int dtype, const gb_pk_tensor *t, int64_t numel, float *dst) {
    int size = gb_dtype_size(dtype);
    if (numel == 0) return;   // (and below, every size is >= 1 with a product <= the cap)
    if (is_contiguous(t)) {
        gb_convert_to_f32(src + t->offset * size, dtype, numel, dst);
        return;
    }
    int64_t idx[GB_SD_MAX_NDIM] = {0}, at = t->offset;
    for (int64_t k = 0; k < numel; k++) {
        dst[k] = gb_load_as_f32(src + at * size, dtype);
        for (int d = t->ndim - 1; d >= 0; d--) {   // odometer: bump the last index, carry left
            at += t->stride[d];
            if (++idx[d] < t->shape[d]) break;
            at -= t->stride[d] * t->shape[d];
            idx[d] = 0;
        }
    }
}

static gb_status load_tensor(const pth_archive *a, const char *name, const gb_pk_tensor *tensor,
                             int64_t *total, gb_state_dict *out) {
    gb_pk_tensor copy = *tensor, *t = &copy;
    const gb_pk_value *s = t->storage;
    int dtype = s->u.storage.dtype, size = gb_dtype_size(dtype);
    char suffix[300];
    if (s->u.storage.key_len > 200) return gb_set_error(GB_ERR_FORMAT, "pth: storage key too long");
    size_t n = (size_t)snprintf(suffix, sizeof suffix, "data/%.*s", (int)s->u.storage.key_len, s->u.storage.key);
    const uint8_t *bytes;
    size_t nbytes;
    GB_TRY(record(a, suffix, n, &bytes, &nbytes));
    if (s->u.storage.numel != (int64_t)(nbytes / (size_t)size) || nbytes % (size_t)size)
        return gb_set_error(GB_ERR_FORMAT, "pth: storage '%.*s' of tensor '%.100s' says %lld elements "
                            "but its record holds %zu bytes", (int)n, suffix, name,
                            (long long)s->u.storage.numel, nbytes);
    int64_t numel;
    GB_TRY(check_extent(name, t, s->u.storage.numel, &numel));
    if (numel > GB_SD_MAX_TOTAL_NUMEL - *total)
        return gb_set_error(GB_ERR_FORMAT, "pth: the tensors hold more elements than this loader allows");
    *total += numel;
    GB_TRY(gb_sd_add(out, name, t->ndim, t->shape, dtype, NULL));
    gather(bytes, dtype, t, numel, out->entries[out->n - 1].data);
    return GB_OK;
}

static int all_tensors(const gb_pk_value *dict) {
    for (int i = 0; i + 1 < dict->u.seq.n; i += 2)
        if (dict->u.seq.items[i + 1]->type != GB_PK_TENSOR) return 0;
    return 1;
}

// The state dict itself, or one wrapped as {"state_dict": ...} / {"model": ...}.
static gb_status pick_state_dict(const gb_pk_value *root, const gb_pk_value **out) {
    if (root->type != GB_PK_DICT)
        return gb_set_error(GB_ERR_FORMAT, "pth: the file holds a %s, not a state_dict", gb_pk_type_name(root->type));
    if (all_tensors(root)) { *out = root; return GB_OK; }
    for (int i = 0; i + 1 < root->u.seq.n; i += 2) {
        const gb_pk_value *k = root->u.seq.items[i], *v = root->u.seq.items[i + 1];
        int wrapper = k->type == GB_PK_STR && ((k->u.str.len == 10 && !memcmp(k->u.str.s, "state_dict", 10)) ||
                                               (k->u.str.len == 5 && !memcmp(k->u.str.s, "model", 5)));
        if (wrapper && v->type == GB_PK_DICT && all_tensors(v)) { *out = v; return GB_OK; }
    }
    for (int i = 0; i + 1 < root->u.seq.n; i += 2) {
        const gb_pk_value *k = root->u.seq.items[i], *v = root->u.seq.items[i + 1];
        if (v->type == GB_PK_TENSOR) continue;
        if (k->type != GB_PK_STR) break;
        return gb_set_error(GB_ERR_FORMAT, "pth: entry '%.*s' is a %s, not a tensor (and no "
                            "'state_dict' or 'model' entry holds the tensors)",
                            (int)(k->u.str.len > 100 ? 100 : k->u.str.len), k->u.str.s, gb_pk_type_name(v->type));
    }
    return gb_set_error(GB_ERR_FORMAT, "pth: the dict has a key that is not a string");
}

static int by_name(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static gb_status check_unique(const gb_state_dict *sd) {
    char **names = malloc(((size_t)sd->n + 1) * sizeof *names);
    if (!names) return gb_set_error(GB_ERR_NOMEM, "pth: out of memory");
    for (int i = 0; i < sd->n; i++) names[i] = sd->entries[i].name;
    qsort(names, (size_t)sd->n, sizeof *names, by_name);
    gb_status st = GB_OK;
    for (int i = 1; i < sd->n && st == GB_OK; i++)
        if (strcmp(names[i - 1], names[i]) == 0)
            st = gb_set_error(GB_ERR_FORMAT, "pth: key '%.100s' appears twice", names[i]);
    free(names);
    return st;
}

static gb_status load_entries(const pth_archive *a, const gb_pk_value *dict, gb_state_dict *out) {
    int64_t total = 0;
    for (int i = 0; i + 1 < dict->u.seq.n; i += 2) {
        const gb_pk_value *k = dict->u.seq.items[i], *v = dict->u.seq.items[i + 1];
        if (k->type != GB_PK_STR || memchr(k->u.str.s, '\0', k->u.str.len) || k->u.str.len > 4096)
            return gb_set_error(GB_ERR_FORMAT, "pth: a state_dict key is not a plain string");
        char *name = malloc(k->u.str.len + 1);
        if (!name) return gb_set_error(GB_ERR_NOMEM, "pth: out of memory");
        memcpy(name, k->u.str.s, k->u.str.len);
        name[k->u.str.len] = '\0';
        gb_status st = load_tensor(a, name, v->u.tensor, &total, out);
        free(name);
        GB_TRY(st);
    }
    return check_unique(out);
}

gb_status gb_pth_read(const uint8_t *buf, size_t len, gb_state_dict *out) {
    *out = (gb_state_dict){0};
    pth_archive a = {0};
    GB_TRY(gb_zip_open(&a.zip, buf, len));
    const uint8_t *pkl;
    size_t pkl_len;
    gb_pickle pk = {0};
    char what[160];
    gb_status st = find_prefix(&a);
    if (st == GB_OK) st = check_byteorder(&a);
    if (st == GB_OK) st = record(&a, "data.pkl", 8, &pkl, &pkl_len);
    if (st == GB_OK && pkl_len > MAX_PICKLE_BYTES)
        st = gb_set_error(GB_ERR_FORMAT, "pth: %sdata.pkl is over 64 MB", a.prefix);
    if (st == GB_OK) {
        snprintf(what, sizeof what, "%sdata.pkl", a.prefix);
        st = gb_pickle_load(pkl, pkl_len, what, &pk);
    }
    const gb_pk_value *dict = NULL;
    if (st == GB_OK) st = pick_state_dict(pk.result, &dict);
    if (st == GB_OK) st = load_entries(&a, dict, out);
    gb_pickle_free(&pk);
    gb_zip_close(&a.zip);
    if (st != GB_OK) gb_sd_free(out);
    return st;
}

// ---- writer: the pickle torch 1.13 writes for an OrderedDict of tensors ----

enum { MEMO_ORDERED_DICT, MEMO_REBUILD, MEMO_FLOAT_STORAGE, MEMO_LONG_STORAGE };

static void put_op(gb_bytes *b, uint8_t op) { gb_bytes_put(b, &op, 1); }

static void put_int(gb_bytes *b, int64_t v) {
    uint8_t x[9];
    if (v >= 0 && v < 256) { x[0] = 'K'; x[1] = (uint8_t)v; gb_bytes_put(b, x, 2); }
    else if (v >= 0 && v < 65536) { x[0] = 'M'; gb_wr16(x + 1, (uint32_t)v); gb_bytes_put(b, x, 3); }
    else if (v >= INT32_MIN && v <= INT32_MAX) { x[0] = 'J'; gb_wr32(x + 1, (uint32_t)v); gb_bytes_put(b, x, 5); }
    else { x[0] = 0x8a; x[1] = 8; gb_bytes_put(b, x, 2); gb_wr64(x, (uint64_t)v); gb_bytes_put(b, x, 8); }
}

static void put_str(gb_bytes *b, const char *s) {
    uint8_t x[5] = {'X'};
    gb_wr32(x + 1, (uint32_t)strlen(s));
    gb_bytes_put(b, x, 5);
    gb_bytes_put(b, s, strlen(s));
}

// A global the first time (and memoised), a memo fetch after.
static void put_global(gb_bytes *b, const char *module_nl_name, int memo, int *seen) {
    uint8_t x[2] = {0, (uint8_t)memo};
    if (seen[memo]) { x[0] = 'h'; gb_bytes_put(b, x, 2); return; }
    seen[memo] = 1;
    put_op(b, 'c');
    gb_bytes_printf(b, "%s\n", module_nl_name);
    x[0] = 'q';
    gb_bytes_put(b, x, 2);
}

static void put_tuple(gb_bytes *b, int n, const int64_t *v) {
    if (n > 3) put_op(b, '(');
    for (int i = 0; i < n; i++) put_int(b, v[i]);
    put_op(b, n == 0 ? ')' : n == 1 ? 0x85 : n == 2 ? 0x86 : n == 3 ? 0x87 : 't');
}

// key: _rebuild_tensor_v2((('storage', FloatStorage, '<i>', 'cpu', numel), 0, size, stride, False, OrderedDict()))
static void put_entry(gb_bytes *b, const gb_sd_entry *e, int i, int *seen) {
    int64_t stride[GB_SD_MAX_NDIM], s = 1;
    for (int d = e->ndim - 1; d >= 0; d--) { stride[d] = s; s *= e->shape[d]; }
    char key[16];
    snprintf(key, sizeof key, "%d", i);
    put_str(b, e->name);
    put_global(b, "torch._utils\n_rebuild_tensor_v2", MEMO_REBUILD, seen);
    put_op(b, '(');
    put_op(b, '(');
    put_str(b, "storage");
    if (e->dtype_src == GB_DT_I64) put_global(b, "torch\nLongStorage", MEMO_LONG_STORAGE, seen);
    else put_global(b, "torch\nFloatStorage", MEMO_FLOAT_STORAGE, seen);
    put_str(b, key);
    put_str(b, "cpu");
    put_int(b, e->numel);
    put_op(b, 't');
    put_op(b, 'Q');                       // BINPERSID
    put_int(b, 0);                        // storage_offset
    put_tuple(b, e->ndim, e->shape);
    put_tuple(b, e->ndim, stride);
    put_op(b, 0x89);                      // requires_grad=False
    gb_bytes_put(b, "h\0)R", 4);          // OrderedDict(): backward_hooks
    put_op(b, 't');
    put_op(b, 'R');
}

static void put_pickle(gb_bytes *b, const gb_state_dict *sd) {
    int seen[4] = {0};
    gb_bytes_put(b, "\x80\x02", 2);                       // PROTO 2
    put_global(b, "collections\nOrderedDict", MEMO_ORDERED_DICT, seen);
    gb_bytes_put(b, ")R", 2);                             // OrderedDict()
    if (sd->n) put_op(b, '(');
    for (int i = 0; i < sd->n; i++) put_entry(b, &sd->entries[i], i, seen);
    if (sd->n) put_op(b, 'u');                            // SETITEMS
    put_op(b, '.');
}

gb_status gb_pth_write(const gb_state_dict *sd, uint8_t **out, size_t *len) {
    *out = NULL;
    *len = 0;
    for (int i = 0; i < sd->n; i++)
        if (!gb_utf8_valid((const uint8_t *)sd->entries[i].name, strlen(sd->entries[i].name)))
            return gb_set_error(GB_ERR_ARG, "pth: tensor name '%.100s' is not valid UTF-8", sd->entries[i].name);
    gb_zip_writer w = {0};
    gb_bytes pkl = {0};
    put_pickle(&pkl, sd);
    gb_zip_add(&w, "archive/data.pkl", pkl.data, pkl.len);
    int failed = pkl.failed;
    free(pkl.data);
    for (int i = 0; i < sd->n && !failed; i++) {
        const gb_sd_entry *e = &sd->entries[i];
        int i64 = e->dtype_src == GB_DT_I64;
        size_t nbytes = (size_t)e->numel * (i64 ? 8 : 4);
        uint8_t *bytes = malloc(nbytes ? nbytes : 1);
        if (!bytes) { failed = 1; break; }
        for (int64_t k = 0; k < e->numel; k++) {
            if (i64) gb_store_i64(bytes + 8 * k, e->data[k]);
            else memcpy(bytes + 4 * k, &e->data[k], 4);   // NOTE: little-endian host (wasm, x86, arm)
        }
        char name[32];
        snprintf(name, sizeof name, "archive/data/%d", i);
        gb_zip_add(&w, name, bytes, nbytes);
        free(bytes);
    }
    gb_zip_add(&w, "archive/version", "3\n", 2);
    if (failed) {
        free(w.out.data);
        free(w.dir.data);
        return gb_set_error(GB_ERR_NOMEM, "pth: out of memory while writing");
    }
    return gb_zip_finish(&w, out, len);
}
