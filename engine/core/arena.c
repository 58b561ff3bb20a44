// arena.c: see gb_arena.h.
#include "gb_arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define GB_ARENA_ALIGN 64

struct gb_arena_block {
    gb_arena_block *next;
    size_t size;   // usable bytes after the header
    size_t off;    // bytes used
    unsigned char *mem;
};

void gb_arena_init(gb_arena *a, size_t block_size) {
    memset(a, 0, sizeof *a);
    a->block_size = block_size ? block_size : (1u << 20);
}

static gb_arena_block *new_block(size_t size) {
    gb_arena_block *b = malloc(sizeof *b);
    if (!b) return NULL;
    b->mem = aligned_alloc(GB_ARENA_ALIGN, (size + GB_ARENA_ALIGN - 1) / GB_ARENA_ALIGN * GB_ARENA_ALIGN);
    if (!b->mem) { free(b); return NULL; }
    b->next = NULL;
    b->size = size;
    b->off = 0;
    return b;
}

void *gb_arena_alloc_uninit(gb_arena *a, size_t bytes) {
    size_t need = (bytes + GB_ARENA_ALIGN - 1) / GB_ARENA_ALIGN * GB_ARENA_ALIGN;
    if (need < bytes) return NULL;                       // overflow
    // The block being filled, else the first block with room, else a new
    // block at the end: a large tensor that does not fit leaves the rest of
    // the current block to the tensors after it. After a reset the same
    // requests land in the same blocks, so a repeated step never mallocs.
    gb_arena_block *b = a->head, *last = NULL;
    if (!b || b->size - b->off < need)
        for (b = a->first; b && b->size - b->off < need; b = b->next) last = b;
    if (!b) {
        size_t size = need > a->block_size ? need : a->block_size;
        b = new_block(size);
        if (!b) return NULL;
        if (last) last->next = b;
        else a->first = b;
    }
    a->head = b;
    void *p = b->mem + b->off;
    b->off += need;
    a->used += need;
    if (a->used > a->peak) a->peak = a->used;
#ifdef GB_POISON_BUFFERS
    memset(p, 0xff, bytes);   // 0xffffffff is a NaN: a read before the first write shows
#endif
    return p;
}

void *gb_arena_alloc(gb_arena *a, size_t bytes) {
    void *p = gb_arena_alloc_uninit(a, bytes);
    if (p) memset(p, 0, bytes);
    return p;
}

void gb_arena_reset(gb_arena *a) {
    for (gb_arena_block *b = a->first; b; b = b->next) b->off = 0;
    a->head = a->first;
    a->used = 0;
}

void gb_arena_free(gb_arena *a) {
    gb_arena_block *b = a->first;
    while (b) {
        gb_arena_block *next = b->next;
        free(b->mem);
        free(b);
        b = next;
    }
    size_t block_size = a->block_size;
    gb_arena_init(a, block_size);
}

size_t gb_arena_capacity(const gb_arena *a) {
    size_t total = 0;
    for (const gb_arena_block *b = a->first; b; b = b->next) total += b->size;
    return total;
}
