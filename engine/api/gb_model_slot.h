// gb_model_slot.h: what engine/api keeps for each model handle. Private to
// engine/api: gb_model_api.c makes, loads and steps a model; model_info.c
// reports on it (gb_model_json, gb_model_load_info, gb_model_step_info).
#ifndef GB_MODEL_SLOT_H
#define GB_MODEL_SLOT_H

#include <stdint.h>

#include "../core/gb_sb.h"
#include "../nn/gb_optim.h"
#include "../nn/gb_resnet18.h"
#include "../nn/io/gb_format.h"

#define GB_STEP_MAX_OPS 24   // distinct backward node names a step can count (ResNet-18 has 10)
#define GB_LOAD_REPORT_BYTES 16384   // load_state_dict's report: as long as an error message may be (core/status.c)

typedef struct gb_step_op { const char *name; int count; } gb_step_op;   // "ReluBackward0", 17

// What the last gb_model_forward / _loss_backward / _train_step did and cost.
typedef struct gb_step_info {
    const char *kind;             // "forward", "loss_backward", "train_step"; NULL before any
    int shape[4];                 // the input (N, 3, H, W)
    int training;                 // the model was in train() mode
    double forward_ms, backward_ms, optimizer_ms;   // < 0: that part did not run
    int tape_nodes;               // nodes the forward recorded (0 under no_grad)
    int backward_nodes;           // how many of them the backward ran
    gb_step_op ops[GB_STEP_MAX_OPS];   // backward_nodes by node name, in the order backward met them
    int n_ops;
    double peak_bytes;            // the step graph's high-water mark (gb_graph_peak_bytes), the sum of:
    double graph_bytes;           //   tensors' headers, nodes, saved values (the graph's bump arena)
    double plan_bytes;            //   activations and flows (the planned arena)
    double scratch_bytes;         //   the ops' work area
    char first_grad_module[128];  // "" when the step's backward gave no parameter a .grad
    int params_with_grad;         // parameter tensors with a .grad after the step
    int64_t grad_numel;           // their elements
    float loss;                   // NaN for a forward
} gb_step_info;

// What the last successful gb_model_load read.
typedef struct gb_load_info {
    const char *format;           // "pth" or "safetensors" (gb_file_format_name); NULL before any load
    int keys;                     // entries in the file's state_dict
} gb_load_info;

typedef struct gb_model_slot {
    gb_model model;
    int init_pending;             // torchvision's init not drawn yet (gb_model_api.c: ready_model)
    uint64_t seed;                // the seed it will be drawn with
    gb_graph step;                // one forward (+ backward); reset at the next
    gb_optimizer opt;
    int has_opt;
    float last_loss;
    int last_correct;             // rows of the last step whose argmax was the target
    gb_sb json;
    uint8_t *saved;               // the last gb_model_save output
    gb_load_info load;
    gb_step_info info;            // the last step that succeeded
    gb_step_info pending;         // the step running
} gb_model_slot;

// The slot of handle h, or NULL with GB_ERR_BAD_HANDLE set.
gb_model_slot *gb_model_slot_of(int h);
// The same, with torchvision's init drawn if it was still pending.
gb_model_slot *gb_model_slot_ready(int h);
// The file format of gb_api.h's code GB_FORMAT_SAFETENSORS or GB_FORMAT_PTH,
// or GB_ERR_ARG for another code.
gb_status gb_file_format_of_code(int format, gb_file_format *out);
// Writes `sd` as `format` (pth or safetensors) into the slot's saved buffer:
// *out, *len, valid until the next write. Frees `sd`.
gb_status gb_model_slot_write(gb_model_slot *s, gb_state_dict *sd, gb_file_format format, uint8_t **out, size_t *len);
// A planned step's key (gb_graph_run_planned): the call, the input's shape,
// every parameter (which tensor, whether it trains) and module (train/eval).
enum { GB_STEP_FORWARD = 1, GB_STEP_LOSS_BACKWARD, GB_STEP_FEATURES };
uint64_t gb_model_step_key(gb_model_slot *s, int kind, int N, int H, int W);
// Frees the optimizer (requires_grad or the head changed).
void gb_model_slot_drop_optimizer(gb_model_slot *s);

// Fills the rest of s->pending from s->step and the parameters' .grad
// (model_info.c): backward nodes by name, the first module with a .grad.
void gb_step_info_collect(gb_model_slot *s);

#endif
