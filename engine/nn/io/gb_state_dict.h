// gb_state_dict.h: a neutral state dict, the meeting point of every weights
// format (safetensors, PyTorch .pth) and the model.
//
// Each entry is a named float32 tensor plus the dtype it had in the file, so
// writers can put integer buffers back as integers: BatchNorm's
// num_batches_tracked is int64 in PyTorch and must be written as int64 or
// load_state_dict() would copy a float into a LongTensor slot.
// NOTE: int64 values pass through float32, exact up to 2^24 (16.7M batches).
//
// The readers treat their input as hostile: every length, offset and index
// is checked before use, and a failure returns GB_ERR_FORMAT with a message
// that names the part of the file that is wrong. On failure `out` is left
// empty (nothing to free, though gb_sd_free is harmless).
#ifndef GB_STATE_DICT_H
#define GB_STATE_DICT_H

#include <stddef.h>
#include <stdint.h>

#include "../../core/gb_status.h"

#define GB_SD_MAX_NDIM 8

// Upper bound on the elements a reader will materialise in one file: 2^28
// floats = 1 GiB, far above ResNet-18 (11.7M) yet below what a wasm32 heap
// can hold. Stops a few bytes of input from asking for gigabytes (a stride-0
// tensor in a .pth, say). Fuzz builds lower it.
#ifndef GB_SD_MAX_TOTAL_NUMEL
#define GB_SD_MAX_TOTAL_NUMEL ((int64_t)1 << 28)
#endif

// Source dtypes, as they were in the file. Everything becomes float32 in memory.
typedef enum gb_dtype_src {
    GB_DT_F32 = 0,
    GB_DT_F16,
    GB_DT_BF16,
    GB_DT_F64,
    GB_DT_I64,   // written back as int64 (num_batches_tracked)
    GB_DT_I32,
    GB_DT_I16,
    GB_DT_I8,
    GB_DT_U8,
    GB_DT_BOOL,
    GB_DT_COUNT
} gb_dtype_src;

typedef struct gb_sd_entry {
    char *name;                       // "layer1.0.conv1.weight", NUL-terminated, owned
    int ndim;                         // 0 for a scalar tensor
    int64_t shape[GB_SD_MAX_NDIM];
    int dtype_src;                    // a gb_dtype_src
    float *data;                      // numel floats, contiguous row-major, owned
    int64_t numel;
} gb_sd_entry;

typedef struct gb_state_dict {
    gb_sd_entry *entries;             // in file order (what torch would iterate)
    int n;
    int cap;
} gb_state_dict;

// Frees every name and buffer and leaves `sd` empty (reusable).
void gb_sd_free(gb_state_dict *sd);
// The entry called `name`, or NULL (a linear search).
gb_sd_entry *gb_sd_find(const gb_state_dict *sd, const char *name);
// Appends an entry with a copy of `name` and of `data` (numel floats, may be
// NULL to get a zero-filled buffer). GB_ERR_NOMEM or GB_ERR_ARG on failure.
gb_status gb_sd_add(gb_state_dict *sd, const char *name, int ndim, const int64_t *shape,
                    int dtype_src, const float *data);
int64_t gb_sd_numel(int ndim, const int64_t *shape);     // 1 for ndim 0
const char *gb_dtype_src_name(int dtype_src);            // "float32", "int64", ...

// What a model expects: one parameter or buffer.
typedef struct gb_sd_expect {
    const char *name;
    int ndim;
    int64_t shape[GB_SD_MAX_NDIM];
} gb_sd_expect;

// Compares a loaded state dict with what the model expects, as
// `model.load_state_dict(sd, strict=True)` does, and writes torch 1.13's
// message into `report` (truncated to `cap`, always NUL-terminated):
//   Error(s) in loading state_dict for ResNet:
//   \tMissing key(s) in state_dict: "fc.weight", "fc.bias". 
//   \tUnexpected key(s) in state_dict: "foo". 
//   \tsize mismatch for fc.weight: copying a param with shape torch.Size([10, 512]) from checkpoint, the shape in current model is torch.Size([1000, 512]).
// A missing "*.num_batches_tracked" is not an error (see gb_sd_is_optional).
// Module structure is inferred from the dotted names (`expected` in
// state_dict order): like torch, a key that names a module ("fc") or one of
// a module's tensors plus more ("conv1.weight.x") is silently ignored.
// NOTE: a module with no tensors (ReLU) is invisible here, so an extra key
// "relu" is reported as unexpected where torch would ignore it.
// Returns GB_OK (report = "") when everything fits, else GB_ERR_MISMATCH
// with the report also recorded as the last error.
gb_status gb_sd_compare(const gb_state_dict *have, const char *model_name,
                        const gb_sd_expect *expected, int n, char *report, size_t cap);

// True for "*.num_batches_tracked": a BatchNorm buffer that torch fills with
// 0 when it is missing from a state dict without version metadata (every
// safetensors file), so gb_sd_compare does not report it; the model should
// set it to 0.
int gb_sd_is_optional(const char *name);

// safetensors (https://github.com/huggingface/safetensors): F32, F16, BF16,
// F64 and the integer types are read; F32 and I64 are written.
gb_status gb_safetensors_read(const uint8_t *buf, size_t len, gb_state_dict *out);
// `*out` is malloc'd; free() it.
gb_status gb_safetensors_write(const gb_state_dict *sd, uint8_t **out, size_t *len);

// PyTorch's zip format (torch.save since 1.6). Only the pickle subset that
// torch.load(weights_only=True) accepts is interpreted; nothing is executed.
gb_status gb_pth_read(const uint8_t *buf, size_t len, gb_state_dict *out);
// Writes what torch 1.13's torch.save(OrderedDict) writes: a stored zip with
// archive/data.pkl, archive/data/<i>, archive/version. `*out` is malloc'd.
gb_status gb_pth_write(const gb_state_dict *sd, uint8_t **out, size_t *len);

#endif
