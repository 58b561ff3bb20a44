// gb_pickle.h: a pickle *interpreter* for the subset torch.load(weights_only=True)
// accepts. It builds plain values (ints, strings, tuples, lists, dicts) and
// three torch-specific ones (a global from the allow-list, a storage
// reference from BINPERSID, a tensor from _rebuild_tensor_v2). It never
// imports or calls anything: "calling" an allowed global means building
// the value that global would return.
#ifndef GB_PICKLE_H
#define GB_PICKLE_H

#include <stddef.h>
#include <stdint.h>

#include "gb_state_dict.h"

typedef enum gb_pk_type {
    GB_PK_NONE, GB_PK_BOOL, GB_PK_INT, GB_PK_FLOAT, GB_PK_STR, GB_PK_TUPLE, GB_PK_LIST,
    GB_PK_DICT, GB_PK_SET, GB_PK_GLOBAL, GB_PK_STORAGE, GB_PK_TENSOR,
} gb_pk_type;

// The globals we understand (a subset of torch 1.13's allow-list).
typedef enum gb_pk_global {
    GB_PKG_ORDERED_DICT, GB_PKG_REBUILD_TENSOR, GB_PKG_REBUILD_TENSOR_V2,
    GB_PKG_REBUILD_PARAMETER, GB_PKG_TORCH_SIZE, GB_PKG_STORAGE,   // + a dtype
} gb_pk_global;

typedef struct gb_pk_value gb_pk_value;

typedef struct gb_pk_tensor {
    const gb_pk_value *storage;   // a GB_PK_STORAGE
    int64_t offset;               // in elements
    int ndim;
    int64_t shape[GB_SD_MAX_NDIM], stride[GB_SD_MAX_NDIM];
} gb_pk_tensor;

struct gb_pk_value {
    gb_pk_type type;
    gb_pk_value *next_alloc;      // every value, for freeing without recursion
    union {
        int64_t i;                // BOOL, INT
        double f;                 // FLOAT
        struct { const char *s; size_t len; } str;              // into the pickle bytes
        struct { gb_pk_value **items; int n, cap; } seq;        // TUPLE, LIST, DICT (k0,v0,k1,v1...)
        struct { int which; int dtype; } global;                 // GLOBAL
        struct { int dtype; const char *key; size_t key_len; int64_t numel; } storage;
        gb_pk_tensor *tensor;
    } u;
};

typedef struct gb_pickle {
    gb_pk_value *result;          // what STOP returned
    gb_pk_value *all;             // allocation list
    int64_t n_values;
} gb_pickle;

// Runs `bytes`; `what` ("archive/data.pkl") prefixes error messages.
gb_status gb_pickle_load(const uint8_t *bytes, size_t len, const char *what, gb_pickle *out);
void gb_pickle_free(gb_pickle *pk);
const char *gb_pk_type_name(gb_pk_type type);

#endif
