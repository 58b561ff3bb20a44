// test_parser.c: the expression language's error paths. Every bad input
// gets a status, a message and the position a caret should point at.
#include "api/gb_api.h"
#include "core/gb_status.h"
#include "gb_test.h"

static int ws;

static void expect_error(const char *expr, int status, const char *message_start, int pos) {
    int s = gb_ws_assign(ws, "Q", expr, 0);
    CHECK(s == status, "'%s': status %d, expected %d (%s)", expr, s, status, gb_error_message());
    CHECK(strncmp(gb_error_message(), message_start, strlen(message_start)) == 0,
          "'%s': message '%s', expected '%s...'", expr, gb_error_message(), message_start);
    CHECK(gb_error_pos() == pos, "'%s': position %d, expected %d", expr, gb_error_pos(), pos);
}

static void expect_type(const char *expr, const char *python_type) {
    gb_ws_assign(ws, "Q", expr, 0);
    CHECK(strcmp(gb_error_type(), python_type) == 0, "'%s': %s, expected %s", expr, gb_error_type(), python_type);
}

static void expect_ok(const char *expr) {
    CHECK(gb_ws_assign(ws, "Q", expr, 0) == 0, "'%s': %s", expr, gb_error_message());
}

int main(void) {
    const float a[2] = { 2, 3 }, w[6] = { 1, 2, 3, 4, 5, 6 };
    const int s2[1] = { 2 }, s23[2] = { 2, 3 };
    ws = gb_ws_new();
    gb_ws_set_tensor(ws, "a", a, s2, 1, 1);
    gb_ws_set_tensor(ws, "W", w, s23, 2, 1);

    expect_error("3*a**3 - b**", GB_ERR_SYNTAX, "invalid syntax", 12);
    expect_error("", GB_ERR_SYNTAX, "the expression is empty", 0);
    expect_error("a +* a", GB_ERR_SYNTAX, "invalid syntax", 3);
    expect_error("(a + 1", GB_ERR_SYNTAX, "'(' was never closed", 6);
    expect_error("a + 1)", GB_ERR_SYNTAX, "unmatched ')'", 5);
    expect_error("a $ 2", GB_ERR_SYNTAX, "invalid syntax", 2);
    expect_error("a % 2", GB_ERR_SYNTAX, "'%' is not supported", 2);
    expect_error("a = 2", GB_ERR_SYNTAX, "invalid syntax: '=' assigns", 2);
    expect_error("a.", GB_ERR_SYNTAX, "invalid syntax: expected a name after '.'", 2);
    expect_error("torch.exp(a,", GB_ERR_SYNTAX, "'(' was never closed", 12);
    expect_error("2a", GB_ERR_SYNTAX, "invalid decimal literal", 1);
    expect_error("1.2.3 * a", GB_ERR_SYNTAX, "invalid syntax", 3);
    expect_error("0x10 * a", GB_ERR_SYNTAX, "invalid decimal literal", 1);
    expect_error("a + b", GB_ERR_NAME, "name 'b' is not defined", 4);
    expect_error("exp(a)", GB_ERR_NAME, "name 'exp' is not defined", 0);
    expect_error("torch.foo(a)", GB_ERR_ATTRIBUTE, "module 'torch' has no attribute 'foo'", 6);
    expect_error("a.foo()", GB_ERR_ATTRIBUTE, "'Tensor' object has no attribute 'foo'", 2);
    expect_error("a.exp", GB_ERR_ATTRIBUTE, "'exp' is a method: write exp()", 2);
    expect_error("a.exp(1)", GB_ERR_TYPE, "Tensor.exp() takes no arguments (1 given)", 2);
    expect_error("torch.exp(a, a)", GB_ERR_TYPE, "torch.exp() takes 1 argument (2 given)", 6);
    expect_error("a.add()", GB_ERR_TYPE, "Tensor.add() takes 1 argument (0 given)", 2);
    expect_error("a + W", GB_ERR_SHAPE, "The size of tensor a (2) must match the size of tensor b (3) at non-singleton dimension 1", 2);
    expect_error("W @ W", GB_ERR_SHAPE, "mat1 and mat2 shapes cannot be multiplied (2x3 and 2x3)", 2);
    expect_error("(a * 2).sum(5)", GB_ERR_INDEX, "Dimension out of range", 8);
    expect_error("a.grad", GB_ERR_AUTOGRAD, "a.grad is None", 2);
    expect_error("torch", GB_ERR_TYPE, "'torch' is a module", 0);
    expect_error("1 / 0", GB_ERR_ZERO_DIVISION, "division by zero", 2);

    // The Python exception classes the page prints before the message.
    expect_type("a +", "SyntaxError");
    expect_type("c", "NameError");
    expect_type("a.foo()", "AttributeError");
    expect_type("a.sum(3)", "IndexError");
    expect_type("a.exp(1, 2)", "TypeError");
    expect_type("a + W", "RuntimeError");

    expect_ok("3*a**3 - a**2");
    expect_ok("1e3*a + 2.5e-1 + .5 + 3. + 1E+2");
    expect_ok("-a**2 + +a");
    expect_ok("2 ** -a");
    expect_ok("torch.sum(W, dim=0).mean()");
    expect_ok("W.sum(-1) == W.sum(1)");
    expect_ok("  torch.matmul(a, W).relu().sigmoid().tanh().abs().sqrt()  ");
    gb_ws_free(ws);
    return gb_test_done("test_parser");
}
