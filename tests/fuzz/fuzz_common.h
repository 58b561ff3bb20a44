// fuzz_common.h: the property both fuzz targets check beyond "no crash, no
// out-of-bounds read, no leak": whatever a reader accepts, our writer can
// write and the reader reads back identically (float bits, shapes, names).
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gb_state_dict.h"

#define FUZZ_ASSERT(cond)                                                          \
    do {                                                                           \
        if (!(cond)) {                                                             \
            fprintf(stderr, "%s:%d: fuzz property failed: %s (%s)\n", __FILE__,    \
                    __LINE__, #cond, gb_last_error());                             \
            abort();                                                               \
        }                                                                          \
    } while (0)

typedef gb_status (*fuzz_reader)(const uint8_t *, size_t, gb_state_dict *);
typedef gb_status (*fuzz_writer)(const gb_state_dict *, uint8_t **, size_t *);

// `read` takes the fuzz input; `read_back` reads what `write` wrote.
static void fuzz_one(const uint8_t *data, size_t size, fuzz_reader read, fuzz_writer write,
                     fuzz_reader read_back) {
    gb_state_dict sd, back;
    gb_status st = read(data, size, &sd);
    if (st != GB_OK) {
        FUZZ_ASSERT(st == GB_ERR_FORMAT && gb_last_error()[0] && sd.n == 0);
        return;
    }
    uint8_t *out;
    size_t len;
    FUZZ_ASSERT(write(&sd, &out, &len) == GB_OK);
    FUZZ_ASSERT(read_back(out, len, &back) == GB_OK);
    FUZZ_ASSERT(back.n == sd.n);
    for (int i = 0; i < sd.n; i++) {
        const gb_sd_entry *a = &sd.entries[i], *b = &back.entries[i];
        FUZZ_ASSERT(strcmp(a->name, b->name) == 0 && a->ndim == b->ndim && a->numel == b->numel);
        FUZZ_ASSERT(memcmp(a->shape, b->shape, (size_t)a->ndim * sizeof a->shape[0]) == 0);
        FUZZ_ASSERT(memcmp(a->data, b->data, (size_t)a->numel * sizeof(float)) == 0);
        FUZZ_ASSERT((a->dtype_src == GB_DT_I64) == (b->dtype_src == GB_DT_I64));
    }
    gb_sd_free(&back);
    gb_sd_free(&sd);
    free(out);
}

#endif
