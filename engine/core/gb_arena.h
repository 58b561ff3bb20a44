// gb_arena.h: bump allocation from chained blocks; everything allocated
// from an arena is freed at once by gb_arena_reset or gb_arena_free.
// Tensors never own memory: an arena does (a lesson's graph, a model's
// parameters and .grad, a step's tape), or a planned step's activation arena
// (offsets by liveness: gb_plan.h). Arenas keep their blocks across resets,
// so a repeated step stops growing them.
#ifndef GB_ARENA_H
#define GB_ARENA_H

#include <stddef.h>

typedef struct gb_arena_block gb_arena_block;

typedef struct gb_arena {
    gb_arena_block *head;     // block being filled
    gb_arena_block *first;    // kept across resets, reused in order
    size_t block_size;        // default size of a new block
    size_t used;              // bytes handed out since the last reset
    size_t peak;              // high-water mark of `used`
} gb_arena;

void gb_arena_init(gb_arena *a, size_t block_size);
// 64-byte aligned, zero-filled; NULL (never abort) when memory runs out.
void *gb_arena_alloc(gb_arena *a, size_t bytes);
// The same, contents undefined (all NaNs in the sanitizer build), for memory
// its caller writes in full before reading: no memset pass.
void *gb_arena_alloc_uninit(gb_arena *a, size_t bytes);
void gb_arena_reset(gb_arena *a);   // keeps the blocks for reuse
void gb_arena_free(gb_arena *a);    // gives the blocks back
size_t gb_arena_capacity(const gb_arena *a);

#endif
