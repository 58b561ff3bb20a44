// test_nn_resnet18.c: the module tree against torchvision's resnet18:
// print(model), the notebook's children printout, named_parameters,
// state_dict keys and shapes, per-module output shapes and parameter counts,
// freezing by path and which parameters a backward gives a .grad.
#include "../nn/nn_fixtures.h"
#include "gb_test.h"
#include "nn/gb_resnet18.h"

static gb_model model;

static void check_text(const char *what, const char *fixture, const char *got) {
    char *want = nn_read_fixture(fixture);
    int same = strcmp(want, got) == 0;
    CHECK(same, "%s differs from torchvision's (%s)", what, fixture);
    if (!same) nn_show_diff(want, got);
    free(want);
}

static void test_prints(void) {
    gb_sb sb;
    gb_sb_init(&sb);
    gb_module_repr(model.root, &sb);
    gb_sb_putc(&sb, '\n');
    check_text("print(model)", "resnet18_repr.txt", gb_sb_str(&sb));
    gb_sb_clear(&sb);
    gb_module_children_repr(model.root, &sb);
    check_text("children", "resnet18_children.txt", gb_sb_str(&sb));
    gb_sb_free(&sb);
}

static void shape_text(int ndim, const int *shape, char *buf, size_t cap) {
    size_t off = 0;
    buf[0] = '\0';
    for (int d = 0; d < ndim; d++) off += (size_t)snprintf(buf + off, cap - off, d ? ",%d" : "%d", shape[d]);
}

static void test_state_dict(void) {
    gb_state_item items[128];
    int n = gb_module_state_items(model.root, 1, items, 128);
    CHECK(n == 122, "state_dict has %d keys", n);
    CHECK(gb_module_state_items(model.root, 0, items, 0) == 102, "without num_batches_tracked");
    gb_module_state_items(model.root, 1, items, 128);
    gb_sb sb;
    gb_sb_init(&sb);
    for (int i = 0; i < n && i < 128; i++) {
        char shape[64] = "";
        if (items[i].t) shape_text(items[i].t->ndim, items[i].t->shape, shape, sizeof shape);
        gb_sb_printf(&sb, "%s\t%s\t%s\n", items[i].key, shape, items[i].t ? "float32" : "int64");
    }
    check_text("state_dict keys, shapes, dtypes", "resnet18_state_dict.txt", gb_sb_str(&sb));

    gb_tensor *params[64];
    int np = gb_module_parameters(model.root, params, 64);
    CHECK(np == 62, "named_parameters has %d", np);
    gb_sb_clear(&sb);
    for (int i = 0; i < np && i < 64; i++) {
        char shape[64];
        shape_text(params[i]->ndim, params[i]->shape, shape, sizeof shape);
        gb_sb_printf(&sb, "%s\t%s\n", params[i]->name, shape);
        CHECK((params[i]->flags & (GB_REQUIRES_GRAD | GB_NEEDS_GRAD)) == (GB_REQUIRES_GRAD | GB_NEEDS_GRAD));
    }
    check_text("named_parameters", "resnet18_named_parameters.txt", gb_sb_str(&sb));
    gb_sb_free(&sb);
}

typedef struct walk_ctx { gb_sb *sb; } walk_ctx;

static void module_line(gb_module *m, void *ctx) {
    char shape[64];
    shape_text(m->out_ndim, m->out_shape, shape, sizeof shape);
    gb_sb_printf(((walk_ctx *)ctx)->sb, "%s\t%s\t%lld\t%s\n", m->path, gb_module_type(m),
                 (long long)gb_module_num_params(m), shape);
}

static void test_modules(void) {
    const int in[4] = { 2, 3, 224, 224 };
    CHECK(gb_module_infer_shapes(model.root, 4, in) == GB_OK, "%s", gb_last_error());
    gb_sb sb;
    gb_sb_init(&sb);
    walk_ctx ctx = { &sb };
    gb_module_walk(model.root, module_line, &ctx);
    check_text("named_modules: type, parameters, output shape", "resnet18_modules.txt", gb_sb_str(&sb));
    gb_sb_free(&sb);
    CHECK(gb_module_num_params(model.root) == 11689512);
    CHECK(gb_module_num_params(gb_module_child(model.root, "fc")) == 513000);
    // An empty image cannot pass the 7×7 conv.
    const int tiny[4] = { 1, 3, 224, 0 };
    CHECK(gb_module_infer_shapes(model.root, 4, tiny) == GB_ERR_SHAPE);
    const int gray[4] = { 1, 1, 224, 224 };
    CHECK(gb_module_infer_shapes(model.root, 4, gray) == GB_ERR_SHAPE);
}

// The names that would get .grad, space-separated, as grads.txt lists them.
static void check_grads(const char *scenario) {
    const char *names[64];
    int n = gb_module_params_getting_grad(model.root, names, 64);
    gb_sb sb;
    gb_sb_init(&sb);
    gb_sb_puts(&sb, scenario);
    for (int i = 0; i < n; i++) gb_sb_printf(&sb, " %s", names[i]);
    gb_sb_putc(&sb, '\n');
    char *want = nn_read_fixture("grads.txt");
    char prefix[64];
    snprintf(prefix, sizeof prefix, "%s ", scenario);
    const char *line = nn_find_line(want, prefix);
    CHECK(line && strncmp(line, gb_sb_str(&sb), sb.len) == 0, "grads for %s: got %s", scenario, gb_sb_str(&sb));
    free(want);
    gb_sb_free(&sb);
}

static void freeze_all_new_head(void) {
    CHECK(gb_module_set_requires_grad(model.root, "", 0) == GB_OK);
    CHECK(gb_resnet18_replace_fc(&model, 10, NULL, 0) == GB_OK);
}

static void test_requires_grad(void) {
    int on, total;
    freeze_all_new_head();
    check_grads("tutorial");
    CHECK(gb_module_count_requires_grad(model.root, "", &on, &total) == GB_OK && on == 2 && total == 62);
    CHECK(gb_module_count_requires_grad(model.root, "fc", &on, &total) == GB_OK && on == 2 && total == 2);
    CHECK(gb_module_count_requires_grad(model.root, "layer4", &on, &total) == GB_OK && on == 0 && total == 15);

    freeze_all_new_head();
    CHECK(gb_module_set_requires_grad(model.root, "layer4.1", 1) == GB_OK);
    check_grads("layer4.1");

    freeze_all_new_head();
    CHECK(gb_module_set_requires_grad(model.root, "layer4", 1) == GB_OK);
    CHECK(gb_module_set_requires_grad(model.root, "layer4.1.bn2.weight", 0) == GB_OK);
    CHECK(gb_module_set_requires_grad(model.root, "fc.bias", 0) == GB_OK);
    check_grads("bn2_frozen");
    CHECK(gb_module_count_requires_grad(model.root, "layer4.1.bn2", &on, &total) == GB_OK && on == 1 && total == 2);

    // get_submodule's error for a path that names nothing.
    CHECK(gb_module_set_requires_grad(model.root, "layer5", 1) == GB_ERR_NAME);
    CHECK(strcmp(gb_last_error(), "ResNet has no attribute `layer5`") == 0, "%s", gb_last_error());
    CHECK(gb_module_set_requires_grad(model.root, "layer4.2.conv1", 1) == GB_ERR_NAME);
    CHECK(strcmp(gb_last_error(), "Sequential has no attribute `2`") == 0, "%s", gb_last_error());
}

static void check_training(gb_module *m, void *ctx) {
    CHECK(m->training == *(int *)ctx, "%s.training", m->path);
}

static void test_train_eval_and_head(void) {
    int mode = 0;
    gb_module_train(model.root, 0);
    gb_module_walk(model.root, check_training, &mode);
    mode = 1;
    gb_module_train(model.root, 1);
    gb_module_walk(model.root, check_training, &mode);

    CHECK(gb_resnet18_replace_fc(&model, 10, NULL, 0) == GB_OK);
    gb_sb sb;
    gb_sb_init(&sb);
    gb_module_repr(model.root, &sb);
    gb_sb_putc(&sb, '\n');
    check_text("print(model) after model.fc = nn.Linear(512, 10)", "resnet18_repr_fc10.txt", gb_sb_str(&sb));
    gb_sb_free(&sb);
    gb_module *fc;
    CHECK(gb_module_find(model.root, "fc", &fc) == GB_OK && fc->out_ch == 10);
    CHECK(strcmp(fc->params[0]->name, "fc.weight") == 0 && strcmp(fc->params[1]->name, "fc.bias") == 0);
    CHECK(model.root->children[9] == fc, "fc keeps its place among the children");
    CHECK(gb_resnet18_replace_fc(&model, 0, NULL, 0) == GB_ERR_ARG);
}

static void test_json(void) {
    gb_sb sb;
    gb_sb_init(&sb);
    const int in[4] = { 1, 3, 224, 224 };
    gb_module_set_requires_grad(model.root, "", 0);
    gb_module_set_requires_grad(model.root, "fc", 1);
    gb_module_infer_shapes(model.root, 4, in);
    gb_module_json(model.root, &sb);
    const char *j = gb_sb_str(&sb);
    CHECK(strncmp(j, "{\"name\": \"\", \"path\": \"\", \"type\": \"ResNet\", \"extra_repr\": \"\", "
                     "\"training\": true, \"num_params\": 11181642, \"trainable_params\": 5130, "
                     "\"output_shape\": [1, 10]", 150) == 0, "%.200s", j);
    CHECK(strstr(j, "{\"name\": \"downsample\", \"path\": \"layer2.0.downsample\", \"type\": \"Sequential\"") != NULL);
    CHECK(strstr(j, "{\"name\": \"fc.weight\", \"shape\": [10, 512], \"numel\": 5120, \"requires_grad\": true, "
                    "\"has_grad\": false, \"grad_norm\": null}") != NULL);
    CHECK(strstr(j, "\"extra_repr\": \"64, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True\"") != NULL);
    gb_sb_free(&sb);
}

// The model's tensors in its arenas with little slack (resnet18.c: small
// blocks), and replace_fc gives the old head's blocks back: the slack was
// 8 MB of 45, and ImageNet's 2 MB fc stayed under a 10-class one.
static void test_arena_slack(void) {
    gb_model m;
    CHECK(gb_resnet18_new(&m, 1000) == GB_OK);
    CHECK(gb_arena_capacity(&m.arena) - m.arena.used < (1u << 20), "model arena: %zu bytes for %zu",
          gb_arena_capacity(&m.arena), m.arena.used);
    CHECK(gb_resnet18_replace_fc(&m, 10, NULL, 0) == GB_OK);
    CHECK(gb_arena_capacity(&m.head_arena) <= (256u << 10), "head arena after replace_fc: %zu bytes",
          gb_arena_capacity(&m.head_arena));
    gb_resnet18_free(&m);
}

int main(void) {
    CHECK(gb_resnet18_new(&model, 1000) == GB_OK, "%s", gb_last_error());
    test_arena_slack();
    test_prints();
    test_state_dict();
    test_modules();
    test_requires_grad();
    test_train_eval_and_head();
    test_json();
    gb_resnet18_free(&model);
    return gb_test_done("test_nn_resnet18");
}
