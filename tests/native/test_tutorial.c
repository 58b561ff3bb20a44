// test_tutorial.c: the notebook's numbers and the semantics around them,
// through the same C API the wasm module exports.
#include <stdlib.h>

#include "api/gb_api.h"
#include "api/gb_workspace.h"
#include "gb_test.h"

static int ws;

static void setup(int b_requires_grad) {
    const float a[2] = { 2, 3 }, b[2] = { 6, 4 };
    const int shape[1] = { 2 };
    gb_ws_clear(ws);
    CHECK(gb_ws_set_tensor(ws, "a", a, shape, 1, 1) == 0);
    CHECK(gb_ws_set_tensor(ws, "b", b, shape, 1, b_requires_grad) == 0);
}

// The JSON text contains `needle`?
static int json_has(const char *root, const char *needle) {
    const char *j = gb_ws_json(ws, root);
    return j && strstr(j, needle) != NULL;
}

int main(void) {
    const float ones[2] = { 1, 1 };
    ws = gb_ws_new();
    CHECK(ws > 0);

    // Q = 3a³ - b², Q.backward(gradient=[1, 1]): a.grad = 9a², b.grad = -2b.
    setup(1);
    CHECK(gb_ws_assign(ws, "Q", "3*a**3 - b**2", 0) == 0, "%s", gb_error_message());
    CHECK(json_has("Q", "\"repr\": \"tensor([-12.,  65.], grad_fn=<SubBackward0>)\""));
    CHECK(gb_ws_backward(ws, "Q", ones, 2, 0) == 0, "%s", gb_error_message());
    CHECK(json_has("Q", "\"grads\": {\"a\": [36, 81], \"b\": [-12, -8]}"), "%s", gb_ws_json(ws, "Q"));
    CHECK(json_has("Q", "\"grad_repr\": \"tensor([-12.,  -8.])\""));
    CHECK(gb_ws_assign(ws, "ca", "9*a**2 == a.grad", 1) == 0);
    CHECK(json_has("ca", "\"repr\": \"tensor([True, True])\""));
    // The six nodes torchviz draws, in PyTorch's breadth-first order.
    CHECK(json_has("Q", "\"edges\": [[0, 1], [0, 2], [1, 3], [2, 4], [3, 5]]"));
    CHECK(json_has("Q", "\"d\": \"3·a²\""), "local derivative of a**3");

    // A second backward without retain_graph: PyTorch's error, grads unchanged.
    CHECK(gb_ws_backward(ws, "Q", ones, 2, 0) == GB_ERR_AUTOGRAD);
    CHECK(strncmp(gb_error_message(), "Trying to backward through the graph a second time", 50) == 0);
    CHECK(json_has("Q", "\"a\": [36, 81]"));

    // retain_graph: the second backward works and grads accumulate.
    setup(1);
    gb_ws_assign(ws, "Q", "3*a**3 - b**2", 0);
    CHECK(gb_ws_backward(ws, "Q", ones, 2, 1) == 0);
    CHECK(gb_ws_backward(ws, "Q", ones, 2, 1) == 0);
    CHECK(json_has("Q", "\"grads\": {\"a\": [72, 162], \"b\": [-24, -16]}"), "%s", gb_ws_json(ws, "Q"));
    // zero_grad resets.
    CHECK(gb_ws_zero_grad(ws) == 0);
    CHECK(json_has("Q", "\"grad_repr\": \"tensor([0., 0.])\""));

    // requires_grad=False on b: b is not in the graph and gets no grad.
    setup(0);
    gb_ws_assign(ws, "Q", "3*a**3 - b**2", 0);
    CHECK(gb_ws_backward(ws, "Q", ones, 2, 0) == 0);
    CHECK(json_has("Q", "\"grads\": {\"a\": [36, 81]}"));
    CHECK(!json_has("Q", "\"label\": \"b\""));

    // Non-scalar Q without a gradient.
    setup(1);
    gb_ws_assign(ws, "Q", "3*a**3 - b**2", 0);
    CHECK(gb_ws_backward(ws, "Q", NULL, 0, 0) == GB_ERR_AUTOGRAD);
    CHECK(strcmp(gb_error_message(), "grad can be implicitly created only for scalar outputs") == 0);

    // torch.no_grad(): Q has no grad_fn, and backward says so.
    setup(1);
    CHECK(gb_ws_assign(ws, "Q", "3*a**3 - b**2", 1) == 0);
    CHECK(json_has("Q", "\"repr\": \"tensor([-12.,  65.])\""));
    CHECK(gb_ws_backward(ws, "Q", ones, 2, 0) == GB_ERR_AUTOGRAD);
    CHECK(strcmp(gb_error_message(), "element 0 of tensors does not require grad and does not have a grad_fn") == 0);

    // gradcheck agrees with backward, and leaves the user's grads alone.
    setup(1);
    gb_ws_assign(ws, "Q", "3*a**3 - b**2", 0);
    gb_ws_backward(ws, "Q", ones, 2, 0);
    CHECK(gb_ws_gradcheck(ws, "Q", ones, 2, 1e-2) == 0, "%s", gb_error_message());
    CHECK(json_has("Q", "\"pass\": true"));
    CHECK(json_has("Q", "\"grads\": {\"a\": [36, 81], \"b\": [-12, -8]}"));

    // Bad handles and names are errors, not crashes.
    CHECK(gb_ws_assign(9999, "Q", "a", 0) == GB_ERR_BAD_HANDLE);
    CHECK(gb_ws_backward(ws, "nope", ones, 2, 0) == GB_ERR_NAME);
    CHECK(gb_ws_assign(ws, "2bad", "a", 0) == GB_ERR_ARG);
    gb_ws_free(ws);
    return gb_test_done("test_tutorial");
}
