// state_json.c: the workspace as JSON for the page, the CLI and the tests
// (format: docs/engine-protocol.md). The graph is listed the way PyTorch's
// autograd links it: breadth-first from root.grad_fn through next_functions,
// each leaf that requires grad appearing as one AccumulateGrad node.
#include <string.h>

#include "../core/gb_repr.h"
#include "gb_workspace.h"

// A node of the drawn graph: an op's node, or the AccumulateGrad of a leaf.
typedef struct graph_item {
    const gb_node *node;      // NULL for AccumulateGrad
    const gb_tensor *leaf;
} graph_item;

static void put_shape(gb_sb *sb, const gb_tensor *t) {
    gb_sb_putc(sb, '[');
    for (int d = 0; d < t->ndim; d++) gb_sb_printf(sb, d ? ", %d" : "%d", t->shape[d]);
    gb_sb_putc(sb, ']');
}

static void put_values(gb_sb *sb, const gb_tensor *t, const float *data) {
    gb_sb_json_values(sb, data, t->ndim, t->shape, data == t->data && (t->flags & GB_BOOL));
}

static void put_repr_string(gb_sb *sb, const gb_tensor *t, const float *grad) {
    gb_sb tmp;
    gb_sb_init(&tmp);
    if (grad) gb_repr_values(&tmp, grad, t->ndim, t->shape, 0, NULL, 0);
    else gb_repr(&tmp, t);
    gb_sb_json_string(sb, gb_sb_str(&tmp));
    gb_sb_free(&tmp);
}

// The item an input edge leads to, or an empty item (PyTorch's None).
static graph_item next_item(const gb_tensor *x) {
    graph_item it = { 0 };
    if (!gb_needs_grad(x)) return it;
    if (x->grad_fn) it.node = x->grad_fn;
    else if (x->flags & GB_REQUIRES_GRAD) it.leaf = x;
    return it;
}

static int find_item(const graph_item *items, int n, graph_item it) {
    for (int i = 0; i < n; i++)
        if (items[i].node == it.node && items[i].leaf == it.leaf) return i;
    return -1;
}

static void put_node(gb_sb *sb, int id, graph_item it) {
    const gb_tensor *t = it.node ? it.node->output : it.leaf;
    gb_sb_printf(sb, "{\"id\": %d, \"name\": ", id);
    gb_sb_json_string(sb, it.node ? it.node->op->name : "AccumulateGrad");
    gb_sb_puts(sb, ", \"label\": ");
    gb_sb_json_string(sb, it.node ? (it.node->text ? it.node->text : "") : it.leaf->name ? it.leaf->name : "");
    gb_sb_puts(sb, ", \"shape\": ");
    put_shape(sb, t);
    gb_sb_puts(sb, ", \"value\": ");
    put_values(sb, t, t->data);
    gb_sb_puts(sb, ", \"grad\": ");
    put_values(sb, t, t->flow);
    gb_sb_printf(sb, ", \"freed\": %s, \"saved\": [", it.node && it.node->freed && it.node->op->saves_tensors ? "true" : "false");
    if (it.node) it.node->op->describe(it.node, sb, 0);
    gb_sb_puts(sb, "], \"local\": [");
    if (it.node) it.node->op->describe(it.node, sb, 1);
    gb_sb_puts(sb, "]}");
}

static void put_graph(gb_sb *sb, gb_ws *ws, const gb_tensor *root) {
    int cap = ws->graph.n_nodes + ws->n_vars + 1;
    graph_item *items = gb_arena_alloc(&ws->graph.arena, (size_t)cap * sizeof *items);
    int (*edges)[2] = gb_arena_alloc(&ws->graph.arena, (size_t)cap * GB_MAX_INPUTS * sizeof *edges);
    int n = 0, n_edges = 0;
    if (items && edges && root->grad_fn) items[n++] = (graph_item){ root->grad_fn, NULL };
    for (int head = 0; head < n; head++) {   // breadth-first: items[] is the queue
        const gb_node *node = items[head].node;
        if (!node) continue;                  // AccumulateGrad has no next functions
        for (int k = 0; k < node->n_inputs; k++) {
            graph_item it = next_item(node->inputs[k]);
            if (!it.node && !it.leaf) continue;
            int id = find_item(items, n, it);
            if (id < 0) { id = n; items[n++] = it; }
            edges[n_edges][0] = head;
            edges[n_edges][1] = id;
            n_edges++;
        }
    }
    gb_sb_puts(sb, "{\"nodes\": [");
    for (int i = 0; i < n; i++) {
        if (i) gb_sb_puts(sb, ", ");
        put_node(sb, i, items[i]);
    }
    gb_sb_puts(sb, "], \"edges\": [");
    for (int i = 0; i < n_edges; i++) gb_sb_printf(sb, i ? ", [%d, %d]" : "[%d, %d]", edges[i][0], edges[i][1]);
    gb_sb_puts(sb, "]}");
}

static void put_tensor(gb_sb *sb, const gb_var *v) {
    const gb_tensor *t = v->t;
    gb_sb_puts(sb, "{\"name\": ");
    gb_sb_json_string(sb, v->name);
    gb_sb_puts(sb, ", \"shape\": ");
    put_shape(sb, t);
    gb_sb_puts(sb, ", \"data\": ");
    put_values(sb, t, t->data);
    gb_sb_printf(sb, ", \"leaf\": %s, \"requires_grad\": %s, \"grad_fn\": ", gb_is_leaf(t) ? "true" : "false",
                 gb_needs_grad(t) ? "true" : "false");
    if (t->grad_fn) gb_sb_json_string(sb, t->grad_fn->op->name);
    else gb_sb_puts(sb, "null");
    gb_sb_puts(sb, ", \"repr\": ");
    put_repr_string(sb, t, NULL);
    gb_sb_puts(sb, ", \"grad\": ");
    put_values(sb, t, t->grad);
    gb_sb_puts(sb, ", \"grad_repr\": ");
    if (t->grad) put_repr_string(sb, t, t->grad);
    else gb_sb_puts(sb, "\"None\"");
    gb_sb_putc(sb, '}');
}

const char *gb_ws_to_json(gb_ws *ws, const char *root_name) {
    gb_sb *sb = &ws->json;
    gb_sb_clear(sb);
    gb_var *root = root_name ? gb_ws_find(ws, root_name, (int)strlen(root_name)) : NULL;
    gb_sb_puts(sb, "{\"root\": ");
    if (root) {
        gb_sb_json_string(sb, root->name);
        gb_sb_puts(sb, ", \"value\": ");
        put_values(sb, root->t, root->t->data);
        gb_sb_puts(sb, ", \"shape\": ");
        put_shape(sb, root->t);
        gb_sb_puts(sb, ", \"repr\": ");
        put_repr_string(sb, root->t, NULL);
    } else {
        gb_sb_puts(sb, "null");
    }
    gb_sb_puts(sb, ", \"grads\": {");
    int first = 1;
    for (int i = 0; i < ws->n_vars; i++) {
        const gb_var *v = &ws->vars[i];
        if (!gb_is_leaf(v->t) || !(v->t->flags & GB_REQUIRES_GRAD)) continue;
        if (!first) gb_sb_puts(sb, ", ");
        first = 0;
        gb_sb_json_string(sb, v->name);
        gb_sb_puts(sb, ": ");
        put_values(sb, v->t, v->t->grad);
    }
    gb_sb_puts(sb, "}, \"tensors\": [");
    for (int i = 0; i < ws->n_vars; i++) {
        if (i) gb_sb_puts(sb, ", ");
        put_tensor(sb, &ws->vars[i]);
    }
    gb_sb_puts(sb, "], \"graph\": ");
    if (root) put_graph(sb, ws, root->t);
    else gb_sb_puts(sb, "{\"nodes\": [], \"edges\": []}");
    if (ws->check.done) {
        const gb_gradcheck *c = &ws->check;
        gb_sb_puts(sb, ", \"gradcheck\": {\"max_abs_diff\": ");
        gb_sb_json_number(sb, c->max_abs_diff);
        gb_sb_puts(sb, ", \"max_rel_diff\": ");
        gb_sb_json_number(sb, c->max_rel_diff);
        gb_sb_printf(sb, ", \"tolerance\": %g, \"eps\": %g, \"pass\": %s}", c->tolerance, c->eps,
                     c->max_rel_diff <= c->tolerance ? "true" : "false");
    }
    gb_sb_putc(sb, '}');
    if (sb->failed) return "{\"error\": \"out of memory while writing the state\"}";
    return gb_sb_str(sb);
}
