// gb_state.h: a module tree's state_dict() and load_state_dict(), through the
// neutral gb_state_dict of engine/nn/io (which the safetensors and .pth
// readers and writers speak).
#ifndef GB_STATE_H
#define GB_STATE_H

#include "gb_module.h"
#include "io/gb_state_dict.h"

// What load_state_dict expects: every state_dict() key of the model with its
// shape (num_batches_tracked: a 0-d tensor), in torch's order. Returns how
// many there are; fills up to `cap`. Names point into the model.
int gb_module_expected_keys(gb_module *root, gb_sd_expect *out, int cap);

// model.load_state_dict(sd, strict=True). When keys are missing or
// unexpected, or shapes differ, returns GB_ERR_MISMATCH with torch 1.13's
// message in `report` (and as the last error) and changes nothing.
// NOTE: torch copies the tensors that fit before it raises; loading here is
// all or nothing, so a failed load never leaves a half-loaded model.
// A missing num_batches_tracked (older checkpoints, safetensors) is set to 0.
gb_status gb_module_load_state_dict(gb_module *root, const char *model_name, const gb_state_dict *sd,
                                    char *report, size_t cap);

// model.load_state_dict(sd, strict=False), but stricter than torch where a
// file can be wrong: keys the file lacks keep their values (torch's
// missing_keys), while unexpected keys and size mismatches are refused with
// the strict message, changing nothing.
gb_status gb_module_load_state_dict_partial(gb_module *root, const char *model_name, const gb_state_dict *sd,
                                            char *report, size_t cap);

// The entries of model.state_dict() whose keys start with one of the
// `n_prefixes` prefixes ("fc." keeps the head), appended to `out`.
gb_status gb_module_state_dict_keys(gb_module *root, const char *const *prefixes, int n_prefixes,
                                    gb_state_dict *out);

// model.state_dict() into `out` (appended; float32, num_batches_tracked as
// int64), ready for gb_safetensors_write / gb_pth_write.
gb_status gb_module_state_dict(gb_module *root, gb_state_dict *out);

#endif
