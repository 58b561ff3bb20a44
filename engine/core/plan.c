// plan.c: see gb_plan.h.
#include "gb_plan.h"

#include <stdlib.h>
#include <string.h>

void gb_plan_clear(gb_plan *p, uint64_t key) {
    p->key = key;
    p->valid = 0;
    p->n_blocks = p->n_tensors = p->n_scratch = p->n_nodes = 0;
    p->total = 0;
}

void gb_plan_free(gb_plan *p) {
    free(p->blocks);
    free(p->data_block);
    free(p->flow_block);
    free(p->scratch_block);
    free(p->node_scratch);
    memset(p, 0, sizeof *p);
}

int gb_plan_block_new(gb_plan *p, size_t bytes, int first, int reuse_of) {
    if (p->n_blocks == p->cap_blocks) {
        int cap = p->cap_blocks ? 2 * p->cap_blocks : 256;
        gb_plan_block *b = realloc(p->blocks, (size_t)cap * sizeof *b);
        if (!b) return -1;
        p->blocks = b;
        p->cap_blocks = cap;
    }
    p->blocks[p->n_blocks] = (gb_plan_block){ .bytes = (bytes + 63) & ~(size_t)63, .first = first,
                                              .last = first - 1, .reuse_of = reuse_of, .alias = -1 };
    if (p->blocks[p->n_blocks].bytes == 0) p->blocks[p->n_blocks].bytes = 64;
    return p->n_blocks++;
}

void gb_plan_use(gb_plan *p, int b, int tick) {
    if (b >= 0 && tick > p->blocks[b].last) p->blocks[b].last = tick;
}

int gb_plan_tensor_new(gb_plan *p, int data_block) {
    if (p->n_tensors == p->cap_tensors) {
        int cap = p->cap_tensors ? 2 * p->cap_tensors : 256;
        int *d = realloc(p->data_block, (size_t)cap * sizeof *d);
        if (!d) return 0;
        p->data_block = d;
        int *f = realloc(p->flow_block, (size_t)cap * sizeof *f);
        if (!f) return 0;
        p->flow_block = f;
        p->cap_tensors = cap;
    }
    p->data_block[p->n_tensors] = data_block;
    p->flow_block[p->n_tensors] = -1;
    return ++p->n_tensors;
}

int gb_plan_scratch_new(gb_plan *p, int b) {
    if (p->n_scratch == p->cap_scratch) {
        int cap = p->cap_scratch ? 2 * p->cap_scratch : 64;
        int *s = realloc(p->scratch_block, (size_t)cap * sizeof *s);
        if (!s) return 0;
        p->scratch_block = s;
        p->cap_scratch = cap;
    }
    p->scratch_block[p->n_scratch++] = b;
    return 1;
}

int gb_plan_nodes(gb_plan *p, int n) {
    int *s = realloc(p->node_scratch, (size_t)(n ? n : 1) * sizeof *s);
    if (!s) return 0;
    p->node_scratch = s;
    for (int i = 0; i < n; i++) s[i] = -1;
    p->n_nodes = n;
    return 1;
}

int gb_plan_root(const gb_plan *p, int b) {
    while (p->blocks[b].alias >= 0) b = p->blocks[b].alias;
    return b;
}

static int lives_together(const gb_plan_block *a, const gb_plan_block *b) {
    return a->first <= b->last && b->first <= a->last;
}

// In place: the output takes the input's bytes when the op making it is the
// input's last reader (nothing reads the input after, nothing saved it) and
// the sizes agree. Blocks are in the order they were made, so a chain
// (conv → bn → relu, all in place) merges front to back.
static void merge_in_place(gb_plan *p) {
    for (int i = 0; i < p->n_blocks; i++) {
        gb_plan_block *c = &p->blocks[i];
        if (c->reuse_of < 0) continue;
        int r = gb_plan_root(p, c->reuse_of);
        gb_plan_block *root = &p->blocks[r];
        if (root->last != c->first || root->bytes != c->bytes) continue;
        c->alias = r;
        root->last = c->last;   // c->last >= c->first == root->last
    }
}

static const gb_plan *sort_plan;
static int by_size(const void *pa, const void *pb) {
    const gb_plan_block *a = &sort_plan->blocks[*(const int *)pa], *b = &sort_plan->blocks[*(const int *)pb];
    if (a->bytes != b->bytes) return a->bytes > b->bytes ? -1 : 1;
    if (a->first != b->first) return a->first < b->first ? -1 : 1;
    return *(const int *)pa - *(const int *)pb;
}
static int by_offset(const void *pa, const void *pb) {
    const gb_plan_block *a = &sort_plan->blocks[*(const int *)pa], *b = &sort_plan->blocks[*(const int *)pb];
    return a->offset < b->offset ? -1 : a->offset > b->offset;
}

// Largest first, each at the lowest offset clear of every placed block that
// lives at the same time (offline greedy by size).
static gb_status place(gb_plan *p) {
    int *order = malloc((size_t)(p->n_blocks ? p->n_blocks : 1) * sizeof *order);
    int *near = malloc((size_t)(p->n_blocks ? p->n_blocks : 1) * sizeof *near);
    if (!order || !near) { free(order); free(near); return gb_set_error(GB_ERR_NOMEM, "out of memory for a plan"); }
    int n = 0;
    for (int i = 0; i < p->n_blocks; i++)
        if (p->blocks[i].alias < 0) order[n++] = i;
    sort_plan = p;
    qsort(order, (size_t)n, sizeof *order, by_size);
    p->total = 0;
    for (int k = 0; k < n; k++) {
        gb_plan_block *b = &p->blocks[order[k]];
        int m = 0;
        for (int j = 0; j < k; j++)
            if (lives_together(b, &p->blocks[order[j]])) near[m++] = order[j];
        qsort(near, (size_t)m, sizeof *near, by_offset);
        size_t at = 0;
        for (int j = 0; j < m; j++) {
            const gb_plan_block *o = &p->blocks[near[j]];
            if (o->offset >= at + b->bytes) break;            // the gap before o fits
            if (o->offset + o->bytes > at) at = o->offset + o->bytes;
        }
        b->offset = at;
        if (at + b->bytes > p->total) p->total = at + b->bytes;
    }
    for (int i = 0; i < p->n_blocks; i++) p->blocks[i].offset = p->blocks[gb_plan_root(p, i)].offset;
    free(order);
    free(near);
    return GB_OK;
}

gb_status gb_plan_finish(gb_plan *p) {
    for (int i = 0; i < p->n_blocks; i++) {
        gb_plan_block *b = &p->blocks[i];
        if (b->pending > 0 || b->last < b->first) b->last = GB_PLAN_END;   // saved for a backward not run, or an output
    }
    merge_in_place(p);
    GB_TRY(place(p));
    p->valid = 1;
    return GB_OK;
}

int gb_plan_find_overlap(const gb_plan *p, int *a, int *b) {
    for (int i = 0; i < p->n_blocks; i++) {
        int ri = gb_plan_root(p, i);
        for (int j = i + 1; j < p->n_blocks; j++) {
            int rj = gb_plan_root(p, j);
            const gb_plan_block *x = &p->blocks[ri], *y = &p->blocks[rj];
            if (ri == rj || !lives_together(x, y)) continue;
            if (x->offset < y->offset + y->bytes && y->offset < x->offset + x->bytes) {
                *a = i, *b = j;
                return 1;
            }
        }
    }
    return 0;
}

size_t gb_plan_bytes_unshared(const gb_plan *p) {
    size_t s = 0;
    for (int i = 0; i < p->n_blocks; i++) s += p->blocks[i].bytes;
    return s;
}
