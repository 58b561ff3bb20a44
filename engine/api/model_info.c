// model_info.c: what the page shows about a model, as JSON: the printouts
// and the module tree (gb_model_json), what the last load read
// (gb_model_load_info), and what the last step did and cost
// (gb_model_step_info). docs/engine-protocol.md §5 lists every field.
// Each string lives in the model's JSON buffer until the next of these calls.
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "gb_api.h"
#include "gb_model_slot.h"

// --- the step --------------------------------------------------------------------

typedef struct grad_count { gb_step_info *inf; int backward_ran; } grad_count;

static void count_grads(gb_module *m, void *ctx) {
    grad_count *c = ctx;
    gb_step_info *inf = c->inf;
    for (int i = 0; i < m->n_params; i++) {
        const gb_tensor *p = m->params[i];
        if (!p->grad) continue;
        inf->params_with_grad++;
        inf->grad_numel += p->numel;
        // The first in named_modules() order is the first in forward order:
        // torchvision's BasicBlock registers downsample last and calls it
        // after bn2. So this is where backward stopped: no module before it
        // was entered (frozen.test.mjs, "who gets a gradient").
        if (c->backward_ran && !inf->first_grad_module[0])
            snprintf(inf->first_grad_module, sizeof inf->first_grad_module, "%s", m->path);
    }
}

void gb_step_info_collect(gb_model_slot *s) {
    gb_step_info *inf = &s->pending;
    const gb_graph *g = &s->step;
    inf->backward_nodes = g->n_backward_run;
    for (int i = g->n_nodes - 1; i >= 0; i--) {   // backward's order: the loss's node first
        const gb_node *node = g->nodes[i];
        if (!node->ran) continue;
        int k = 0;
        while (k < inf->n_ops && strcmp(inf->ops[k].name, node->op->name) != 0) k++;
        if (k == GB_STEP_MAX_OPS) continue;   // (never: ResNet-18 has 10 kinds of node)
        if (k == inf->n_ops) inf->ops[inf->n_ops++] = (gb_step_op){ node->op->name, 0 };
        inf->ops[k].count++;
    }
    inf->first_grad_module[0] = '\0';
    grad_count c = { inf, g->n_backward_run > 0 };   // a forward gives no parameter a .grad
    gb_module_walk(s->model.root, count_grads, &c);
}

static void json_ms(gb_sb *sb, const char *key, double ms) {
    gb_sb_printf(sb, ", \"%s\": ", key);
    if (ms < 0) gb_sb_puts(sb, "null");
    else gb_sb_json_number(sb, ms);
}

// {"kind", "input_shape", "training", "loss", "forward_ms", "backward_ms",
//  "optimizer_ms", "tape_nodes", "backward_nodes", "backward_ops",
//  "peak_bytes", "memory": {"graph", "plan", "scratch": the parts of the
//  peak, bytes}, "first_grad_module", "params_with_grad", "grad_numel"},
// or null before the first step.
GB_API const char *gb_model_step_info(int h) {
    gb_model_slot *s = gb_model_slot_of(h);
    if (!s) return NULL;
    const gb_step_info *inf = &s->info;
    gb_sb *sb = &s->json;
    gb_sb_clear(sb);
    if (!inf->kind) { gb_sb_puts(sb, "null"); return gb_sb_str(sb); }
    gb_sb_printf(sb, "{\"kind\": \"%s\", \"input_shape\": [%d, %d, %d, %d], \"training\": %s, \"loss\": ", inf->kind,
                 inf->shape[0], inf->shape[1], inf->shape[2], inf->shape[3], inf->training ? "true" : "false");
    gb_sb_json_number(sb, inf->loss);
    json_ms(sb, "forward_ms", inf->forward_ms);
    json_ms(sb, "backward_ms", inf->backward_ms);
    json_ms(sb, "optimizer_ms", inf->optimizer_ms);
    gb_sb_printf(sb, ", \"tape_nodes\": %d, \"backward_nodes\": %d, \"backward_ops\": {", inf->tape_nodes,
                 inf->backward_nodes);
    for (int k = 0; k < inf->n_ops; k++) gb_sb_printf(sb, "%s\"%s\": %d", k ? ", " : "", inf->ops[k].name, inf->ops[k].count);
    gb_sb_printf(sb, "}, \"peak_bytes\": %.0f, \"memory\": {\"graph\": %.0f, \"plan\": %.0f, \"scratch\": %.0f}",
                 inf->peak_bytes, inf->graph_bytes, inf->plan_bytes, inf->scratch_bytes);
    gb_sb_puts(sb, ", \"first_grad_module\": ");
    if (inf->first_grad_module[0]) gb_sb_json_string(sb, inf->first_grad_module);
    else gb_sb_puts(sb, "null");
    gb_sb_printf(sb, ", \"params_with_grad\": %d, \"grad_numel\": %lld}", inf->params_with_grad,
                 (long long)inf->grad_numel);
    return sb->failed ? NULL : gb_sb_str(sb);
}

// --- the load ----------------------------------------------------------------------

// {"format": "pth" | "safetensors", "keys": entries in the file, "report":
// repr of load_state_dict's return value}, or null before the first load.
// Only a successful load changes it (a failed one throws and leaves it).
GB_API const char *gb_model_load_info(int h) {
    gb_model_slot *s = gb_model_slot_of(h);
    if (!s) return NULL;
    gb_sb_clear(&s->json);
    if (!s->load.format) gb_sb_puts(&s->json, "null");
    // strict=True either raises or returns _IncompatibleKeys([], []), whose repr is this:
    else gb_sb_printf(&s->json, "{\"format\": \"%s\", \"keys\": %d, \"report\": \"<All keys matched successfully>\"}",
                      s->load.format, s->load.keys);
    return s->json.failed ? NULL : gb_sb_str(&s->json);
}

// --- the model ---------------------------------------------------------------------

// print(module) text: repr and a newline, as print writes it.
static void printed(const gb_module *m, gb_sb *sb) {
    gb_module_repr(m, sb);
    gb_sb_putc(sb, '\n');
}

static void json_text(gb_sb *out, const char *key, void (*write)(const gb_module *, gb_sb *), const gb_module *m) {
    gb_sb text;
    gb_sb_init(&text);
    if (m) write(m, &text);
    gb_sb_printf(out, "\"%s\": ", key);
    gb_sb_json_string(out, gb_sb_str(&text));
    gb_sb_free(&text);
}

static void add_conv_weights(gb_module *m, void *sum) {
    if (m->kind == GB_MOD_CONV2D) *(double *)sum += (double)(m->conv_weights.fwd.floats + m->conv_weights.dx.floats) * sizeof(float);
}

// {"repr": print(model) (repr: no newline), "children_repr": for child in
// model.children(): print(child), "fc_repr": print(model.fc), "tree": the
// module tree (gb_module.h; output shapes for a 1×3×224×224 input, inferred
// here whatever the last forward was), "arena_bytes", "conv_weights_bytes"
// (transformed weights the convolutions keep), "step_peak_bytes"}.
GB_API const char *gb_model_json(int h) {
    gb_model_slot *s = gb_model_slot_of(h);
    if (!s) return NULL;
    static const int shape224[4] = { 1, 3, 224, 224 };
    gb_status st = gb_module_infer_shapes(s->model.root, 4, shape224);
    GB_ASSERT(st == GB_OK, "a 224x224 image flows through resnet18");
    gb_sb *sb = &s->json;
    gb_sb_clear(sb);
    gb_sb_putc(sb, '{');
    json_text(sb, "repr", gb_module_repr, s->model.root);
    gb_sb_puts(sb, ", ");
    json_text(sb, "children_repr", gb_module_children_repr, s->model.root);
    gb_sb_puts(sb, ", ");
    json_text(sb, "fc_repr", printed, gb_module_child(s->model.root, "fc"));
    gb_sb_puts(sb, ", \"tree\": ");
    gb_module_json(s->model.root, sb);
    double conv_weights = 0;
    gb_module_walk(s->model.root, add_conv_weights, &conv_weights);
    gb_sb_printf(sb, ", \"arena_bytes\": %.0f, \"conv_weights_bytes\": %.0f, \"step_peak_bytes\": %.0f}",
                 (double)(gb_arena_capacity(&s->model.arena) + gb_arena_capacity(&s->model.head_arena) +
                          gb_arena_capacity(&s->model.grad_arena)),
                 conv_weights, (double)gb_graph_peak_bytes(&s->step));
    return sb->failed ? NULL : gb_sb_str(sb);
}
