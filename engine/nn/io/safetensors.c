// safetensors.c: the format is 8 bytes of little-endian header length N, N
// bytes of JSON, then one data area. The JSON maps each tensor name to
//   {"dtype": "F32", "shape": [64, 3, 7, 7], "data_offsets": [begin, end]}
// with offsets relative to the data area; "__metadata__" maps strings to
// strings. The tensors must tile the data area exactly: no gap, no overlap.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gb_io_internal.h"
#include "gb_json.h"

// The reference implementation's own limit on the header.
#define MAX_HEADER_BYTES ((uint64_t)100 << 20)

static const struct { const char *name; int dtype; } st_dtypes[] = {
    {"F32", GB_DT_F32}, {"F16", GB_DT_F16}, {"BF16", GB_DT_BF16}, {"F64", GB_DT_F64},
    {"I64", GB_DT_I64}, {"I32", GB_DT_I32}, {"I16", GB_DT_I16},   {"I8", GB_DT_I8},
    {"U8", GB_DT_U8},   {"BOOL", GB_DT_BOOL},
};

typedef struct {
    const char *name;
    int dtype, ndim;
    int64_t shape[GB_SD_MAX_NDIM];
    uint64_t begin, end;
} st_info;

static gb_status bad(const char *name, const char *fmt_tail, const char *detail) {
    return gb_set_error(GB_ERR_FORMAT, "safetensors: tensor '%.100s' %s%s", name, fmt_tail, detail);
}

static gb_status read_dtype(const gb_json_node *v, st_info *t) {
    if (v->type != GB_JSON_STRING) return bad(t->name, "dtype is not a string", "");
    for (size_t i = 0; i < sizeof st_dtypes / sizeof st_dtypes[0]; i++)
        if (strcmp(v->str, st_dtypes[i].name) == 0 && v->str_len == strlen(v->str)) {
            t->dtype = st_dtypes[i].dtype;
            return GB_OK;
        }
    return gb_set_error(GB_ERR_FORMAT, "safetensors: tensor '%.100s' has unsupported dtype '%.20s'",
                        t->name, v->str);
}

static gb_status read_shape(const gb_json_doc *doc, const gb_json_node *v, st_info *t) {
    if (v->type != GB_JSON_ARRAY) return bad(t->name, "shape is not an array", "");
    if (v->n_children > GB_SD_MAX_NDIM) return bad(t->name, "has more than 8 dimensions", "");
    int d = 0;
    for (int c = v->first_child; c >= 0; c = doc->nodes[c].next, d++) {
        const gb_json_node *dim = &doc->nodes[c];
        if (dim->type != GB_JSON_NUMBER || !dim->is_uint || dim->u > (uint64_t)GB_SD_MAX_TOTAL_NUMEL)
            return bad(t->name, "shape holds something other than a sane size", "");
        t->shape[d] = (int64_t)dim->u;
    }
    t->ndim = d;
    return GB_OK;
}

static gb_status read_offsets(const gb_json_doc *doc, const gb_json_node *v, st_info *t) {
    if (v->type != GB_JSON_ARRAY || v->n_children != 2)
        return bad(t->name, "data_offsets is not a pair [begin, end]", "");
    const gb_json_node *b = &doc->nodes[v->first_child], *e = &doc->nodes[b->next];
    if (b->type != GB_JSON_NUMBER || !b->is_uint || e->type != GB_JSON_NUMBER || !e->is_uint)
        return bad(t->name, "data_offsets are not non-negative integers", "");
    t->begin = b->u;
    t->end = e->u;
    return GB_OK;
}

// One "name": {dtype, shape, data_offsets} member, each field exactly once.
static gb_status read_info(const gb_json_doc *doc, const gb_json_node *m, st_info *t) {
    t->name = m->key;
    if (strlen(m->key) != m->key_len) return bad("?", "name contains a NUL character", "");
    if (m->type != GB_JSON_OBJECT) return bad(t->name, "is not described by an object", "");
    int seen[3] = {0, 0, 0};
    for (int c = m->first_child; c >= 0; c = doc->nodes[c].next) {
        const gb_json_node *f = &doc->nodes[c];
        if (strlen(f->key) != f->key_len) return bad(t->name, "has a field name with a NUL", "");
        int which = strcmp(f->key, "dtype") == 0 ? 0 : strcmp(f->key, "shape") == 0 ? 1
                  : strcmp(f->key, "data_offsets") == 0 ? 2 : -1;
        if (which < 0) return bad(t->name, "has an unknown field ", f->key);
        if (seen[which]++) return bad(t->name, "repeats the field ", f->key);
        if (which == 0) GB_TRY(read_dtype(f, t));
        if (which == 1) GB_TRY(read_shape(doc, f, t));
        if (which == 2) GB_TRY(read_offsets(doc, f, t));
    }
    if (!seen[0]) return bad(t->name, "has no dtype", "");
    if (!seen[1]) return bad(t->name, "has no shape", "");
    if (!seen[2]) return bad(t->name, "has no data_offsets", "");
    return GB_OK;
}

static gb_status check_metadata(const gb_json_doc *doc, const gb_json_node *m) {
    if (m->type != GB_JSON_OBJECT)
        return gb_set_error(GB_ERR_FORMAT, "safetensors: __metadata__ is not an object");
    for (int c = m->first_child; c >= 0; c = doc->nodes[c].next)
        if (doc->nodes[c].type != GB_JSON_STRING)
            return gb_set_error(GB_ERR_FORMAT, "safetensors: __metadata__ '%.100s' is not a string",
                                doc->nodes[c].key);
    return GB_OK;
}

// Sizes: the offsets must span exactly numel * itemsize bytes inside the data area.
static gb_status check_extent(const st_info *t, uint64_t data_len, int64_t *total_numel) {
    int64_t numel = 1;
    for (int d = 0; d < t->ndim; d++) {
        if (t->shape[d] && numel > (GB_SD_MAX_TOTAL_NUMEL - *total_numel) / t->shape[d])
            return bad(t->name, "is larger than this loader allows", "");
        numel *= t->shape[d];
    }
    *total_numel += numel;
    char msg[160];
    if (t->begin > t->end) {
        snprintf(msg, sizeof msg, "data_offsets [%llu, %llu] run backwards",
                 (unsigned long long)t->begin, (unsigned long long)t->end);
        return bad(t->name, msg, "");
    }
    if (t->end > data_len) {
        snprintf(msg, sizeof msg, "data_offsets [%llu, %llu] run past the end of the data (%llu bytes)",
                 (unsigned long long)t->begin, (unsigned long long)t->end, (unsigned long long)data_len);
        return bad(t->name, msg, "");
    }
    uint64_t want = (uint64_t)numel * (uint64_t)gb_dtype_size(t->dtype);
    if (t->end - t->begin != want) {
        snprintf(msg, sizeof msg, "data_offsets [%llu, %llu] hold %llu bytes but its shape needs %llu",
                 (unsigned long long)t->begin, (unsigned long long)t->end,
                 (unsigned long long)(t->end - t->begin), (unsigned long long)want);
        return bad(t->name, msg, "");
    }
    return GB_OK;
}

static int by_begin(const void *a, const void *b) {
    const st_info *x = *(const st_info *const *)a, *y = *(const st_info *const *)b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

static int by_name(const void *a, const void *b) {
    return strcmp((*(const st_info *const *)a)->name, (*(const st_info *const *)b)->name);
}

// The tensors, sorted by offset, must tile [0, data_len) and have distinct names.
static gb_status check_tiling(st_info **order, int n, uint64_t data_len) {
    qsort(order, (size_t)n, sizeof *order, by_name);
    for (int i = 1; i < n; i++)
        if (strcmp(order[i - 1]->name, order[i]->name) == 0)
            return bad(order[i]->name, "appears twice in the header", "");
    qsort(order, (size_t)n, sizeof *order, by_begin);
    uint64_t at = 0;
    for (int i = 0; i < n; i++) {
        const st_info *t = order[i];
        if (t->begin < at)
            return gb_set_error(GB_ERR_FORMAT, "safetensors: tensor '%.100s' [%llu, %llu] overlaps '%.100s'",
                                t->name, (unsigned long long)t->begin, (unsigned long long)t->end,
                                order[i - 1]->name);
        if (t->begin > at)
            return gb_set_error(GB_ERR_FORMAT, "safetensors: data bytes [%llu, %llu) belong to no tensor",
                                (unsigned long long)at, (unsigned long long)t->begin);
        at = t->end;
    }
    if (at != data_len)
        return gb_set_error(GB_ERR_FORMAT, "safetensors: data bytes [%llu, %llu) belong to no tensor",
                            (unsigned long long)at, (unsigned long long)data_len);
    return GB_OK;
}

static gb_status parse_header(const gb_json_doc *doc, uint64_t data_len, st_info *infos, int *n_infos) {
    const gb_json_node *root = &doc->nodes[0];
    if (root->type != GB_JSON_OBJECT)
        return gb_set_error(GB_ERR_FORMAT, "safetensors: header is not a JSON object");
    int n = 0, n_meta = 0;
    int64_t total_numel = 0;
    for (int c = root->first_child; c >= 0; c = doc->nodes[c].next) {
        const gb_json_node *m = &doc->nodes[c];
        if (strcmp(m->key, "__metadata__") == 0 && m->key_len == 12) {
            if (n_meta++) return gb_set_error(GB_ERR_FORMAT, "safetensors: __metadata__ appears twice");
            GB_TRY(check_metadata(doc, m));
            continue;
        }
        infos[n] = (st_info){0};
        GB_TRY(read_info(doc, m, &infos[n]));
        GB_TRY(check_extent(&infos[n], data_len, &total_numel));
        n++;
    }
    *n_infos = n;
    st_info **order = malloc(((size_t)n + 1) * sizeof *order);
    if (!order) return gb_set_error(GB_ERR_NOMEM, "safetensors: out of memory");
    for (int i = 0; i < n; i++) order[i] = &infos[i];
    gb_status st = check_tiling(order, n, data_len);
    free(order);
    return st;
}

gb_status gb_safetensors_read(const uint8_t *buf, size_t len, gb_state_dict *out) {
    *out = (gb_state_dict){0};
    if (len < 8)
        return gb_set_error(GB_ERR_FORMAT, "safetensors: file is %zu bytes, too short for the header length", len);
    uint64_t header_len = gb_rd64(buf);
    if (header_len > len - 8)
        return gb_set_error(GB_ERR_FORMAT, "safetensors: header length %llu runs past the end of the file (%zu bytes)",
                            (unsigned long long)header_len, len);
    if (header_len > MAX_HEADER_BYTES)
        return gb_set_error(GB_ERR_FORMAT, "safetensors: header length %llu is over the 100 MB limit",
                            (unsigned long long)header_len);
    if (header_len < 2 || buf[8] != '{')
        return gb_set_error(GB_ERR_FORMAT, "safetensors: header does not start with '{' (not a safetensors file?)");
    gb_json_doc doc;
    GB_TRY(gb_json_parse((const char *)buf + 8, (size_t)header_len, &doc, "safetensors: header"));
    const uint8_t *data = buf + 8 + header_len;
    uint64_t data_len = len - 8 - header_len;
    st_info *infos = malloc(((size_t)doc.nodes[0].n_children + 1) * sizeof *infos);
    int n = 0;
    gb_status st = infos ? parse_header(&doc, data_len, infos, &n)
                         : gb_set_error(GB_ERR_NOMEM, "safetensors: out of memory");
    for (int i = 0; st == GB_OK && i < n; i++) {
        st = gb_sd_add(out, infos[i].name, infos[i].ndim, infos[i].shape, infos[i].dtype, NULL);
        if (st != GB_OK) break;
        gb_sd_entry *e = &out->entries[out->n - 1];
        gb_convert_to_f32(data + infos[i].begin, infos[i].dtype, e->numel, e->data);
    }
    free(infos);
    gb_json_free(&doc);
    if (st != GB_OK) gb_sd_free(out);
    return st;
}

// ---- writer ----------------------------------------------------------------

static void put_json_string(gb_bytes *b, const char *s) {
    gb_bytes_put(b, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') gb_bytes_printf(b, "\\%c", c);
        else if (c < 0x20) gb_bytes_printf(b, "\\u%04x", c);
        else gb_bytes_put(b, s, 1);
    }
    gb_bytes_put(b, "\"", 1);
}

static int written_as_i64(const gb_sd_entry *e) { return e->dtype_src == GB_DT_I64; }

// Int64 tensors go first in the data area so that every tensor starts at a
// multiple of its item size (the header is padded to 8 bytes): consumers
// that map the file straight into typed arrays need that.
gb_status gb_safetensors_write(const gb_state_dict *sd, uint8_t **out, size_t *len) {
    *out = NULL;
    *len = 0;
    uint64_t *begin = malloc(((size_t)sd->n + 1) * sizeof *begin);
    if (!begin) return gb_set_error(GB_ERR_NOMEM, "safetensors: out of memory");
    uint64_t at = 0;
    for (int i = 0; i < sd->n; i++)
        if (!gb_utf8_valid((const uint8_t *)sd->entries[i].name, strlen(sd->entries[i].name))) {
            free(begin);
            return gb_set_error(GB_ERR_ARG, "safetensors: tensor name '%.100s' is not valid UTF-8",
                                sd->entries[i].name);
        }
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < sd->n; i++) {
            const gb_sd_entry *e = &sd->entries[i];
            if (written_as_i64(e) != (pass == 0)) continue;
            begin[i] = at;
            at += (uint64_t)e->numel * (written_as_i64(e) ? 8u : 4u);
        }
    gb_bytes b = {0};
    gb_bytes_put(&b, "\0\0\0\0\0\0\0\0", 8);
    gb_bytes_printf(&b, "{\"__metadata__\":{\"format\":\"pt\"}");
    for (int i = 0; i < sd->n; i++) {
        const gb_sd_entry *e = &sd->entries[i];
        gb_bytes_put(&b, ",", 1);
        put_json_string(&b, e->name);
        gb_bytes_printf(&b, ":{\"dtype\":\"%s\",\"shape\":[", written_as_i64(e) ? "I64" : "F32");
        for (int d = 0; d < e->ndim; d++) gb_bytes_printf(&b, d ? ",%lld" : "%lld", (long long)e->shape[d]);
        gb_bytes_printf(&b, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)begin[i],
                        (unsigned long long)(begin[i] + (uint64_t)e->numel * (written_as_i64(e) ? 8u : 4u)));
    }
    gb_bytes_put(&b, "}", 1);
    while (!b.failed && b.len % 8) gb_bytes_put(&b, " ", 1);  // pad: data starts 8-aligned
    if (!b.failed) gb_wr64(b.data, b.len - 8);
    uint8_t *data = at <= SIZE_MAX - b.len ? gb_bytes_grow(&b, (size_t)at) : NULL;
    if (data) {
        for (int i = 0; i < sd->n; i++) {
            const gb_sd_entry *e = &sd->entries[i];
            uint8_t *p = data + begin[i];
            for (int64_t k = 0; k < e->numel; k++) {
                if (written_as_i64(e)) gb_store_i64(p + 8 * k, e->data[k]);
                else memcpy(p + 4 * k, &e->data[k], 4);   // NOTE: assumes a little-endian host (wasm, x86, arm)
            }
        }
    }
    free(begin);
    if (!data) {
        free(b.data);
        return gb_set_error(GB_ERR_NOMEM, "safetensors: out of memory while writing");
    }
    *out = b.data;
    *len = b.len;
    return GB_OK;
}
