#!/usr/bin/python3
"""Generate the PyTorch conformance fixtures the Gradbox C engine is checked against.

Writes (paths relative to the repository root):
  tests/fixtures/autograd.json  {"cases": [...], "scenarios": [...]}
      cases: an expression evaluated with named float32 leaves in scope, Q.backward(gradient),
             recording Q, repr(Q), the leaves' grads, the grad_fn graph, whether a second
             backward raises, and grads after two retain_graph=True backwards; error cases
             record str(exception), its type and where it arose ("error_at": "eval" | "backward";
             backward errors also carry Q/shape/repr, and a case with "backward_calls": 2 fails on
             its second backward, after the first one produced "grads").
             "gradient" is a nested list with the shape torch used (Q's shape, except in the
             wrong-shape error cases, where it is 1-D); null means Q.backward() with no argument.
      scenarios: step programs in the vocabulary of docs/engine-protocol.md section 3 with
             the expected final state (tutorial semantics: retain_graph, zero_grad, no_grad, ...).
  tests/fixtures/repr.json      {"cases": [...]} repr() of float32/bool tensors (torch/_tensor_str.py).
      Non-finite numbers in "data" are written as the strings "nan", "inf", "-inf"
      (JSON has no NaN); "shape" is given because nested lists cannot express (0, 3).

Rerun (needs the real PyTorch 1.13, which here is only importable from /usr/bin/python3):
    /usr/bin/python3 tests/conformance/gen_fixtures.py
No arguments; deterministic (every case seeds torch from a CRC32 of its id); running it twice
gives byte-identical files.
"""

import contextlib
import io
import json
import math
import os
import zlib

import torch

torch.set_num_threads(1)
F32 = torch.float32

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT_DIR = os.path.join(ROOT, "tests", "fixtures")


# ----------------------------------------------------------------------------- helpers

def gen_for(case_id):
    return torch.Generator().manual_seed(zlib.crc32(case_id.encode()))


def round2(t):
    return torch.round(t * 100) / 100


def randn(shape):
    """Normal values rounded to 2 decimals and pushed away from 0 (|x| >= 0.1)."""
    def make(g):
        v = torch.randn(shape, generator=g, dtype=F32)
        v = torch.sign(v) * (v.abs() + 0.1)
        return round2(v)
    return make


def pos(shape, lo=0.5, hi=2.5):
    """Uniform positive values in [lo, hi], rounded to 2 decimals."""
    def make(g):
        v = torch.rand(shape, generator=g, dtype=F32) * (hi - lo) + lo
        return round2(v)
    return make


def T(name, data, rg=True):
    return (name, data, rg)


def check_finite(x):
    if isinstance(x, list):
        for v in x:
            check_finite(v)
    elif isinstance(x, float):
        assert math.isfinite(x), x


def tolist(t):
    v = t.detach().tolist()
    check_finite(v)
    return v


def graph_of(Q, names):
    """BFS from Q.grad_fn along next_functions (skipping None); dedupe by object identity."""
    nodes, edges = [], []
    if Q.grad_fn is None:
        return {"nodes": nodes, "edges": edges}
    keep = [Q.grad_fn]          # keep python wrappers alive so identity is stable
    ids = {id(Q.grad_fn): 0}
    queue = [Q.grad_fn]
    order = [Q.grad_fn]
    head = 0
    while head < len(queue):
        fn = queue[head]
        head += 1
        for nxt, _ in fn.next_functions:
            if nxt is None:
                continue
            keep.append(nxt)
            if id(nxt) not in ids:
                ids[id(nxt)] = len(order)
                order.append(nxt)
                queue.append(nxt)
            edges.append([ids[id(fn)], ids[id(nxt)]])
    for i, fn in enumerate(order):
        node = {"id": i, "name": type(fn).__name__}
        if node["name"] == "AccumulateGrad":
            label = [n for n, t in names.items() if t is fn.variable]
            assert len(label) == 1
            node["label"] = label[0]
        nodes.append(node)
    return {"nodes": nodes, "edges": edges}


def err_text(e):
    return str(e)


# ----------------------------------------------------------------------------- autograd cases

def make_leaves(specs, datas):
    env = {}
    for (name, _, rg), d in zip(specs, datas):
        env[name] = torch.tensor(d, dtype=F32, requires_grad=rg)
    return env


def evaluate(expr, env):
    return eval(expr, {"__builtins__": {}, "torch": torch}, dict(env))


def run_case(cid, specs, expr, gradient="rand", backward_calls=1, salt=""):
    g = gen_for(cid + salt)
    datas = []
    for name, data, rg in specs:
        t = data(g) if callable(data) else torch.tensor(data, dtype=F32)
        datas.append(t.tolist())
    tensors = [{"name": n, "data": d, "requires_grad": rg} for (n, _, rg), d in zip(specs, datas)]
    case = {"id": cid, "tensors": tensors, "expr": expr}

    env = make_leaves(specs, datas)
    try:
        Q = evaluate(expr, env)
    except Exception as e:  # error at eval
        case["gradient"] = gradient if isinstance(gradient, list) else None
        case.update(error=err_text(e), error_type=type(e).__name__, error_at="eval")
        return case

    # the gradient handed to backward
    if gradient == "rand":
        grad_t = None if Q.dim() == 0 else randn(Q.shape)(g)
    elif gradient == "ones":
        grad_t = None if Q.dim() == 0 else torch.ones(Q.shape, dtype=F32)
    elif gradient is None:
        grad_t = None
    else:
        grad_t = torch.tensor(gradient, dtype=F32)
    case["gradient"] = None if grad_t is None else grad_t.tolist()
    case["Q"] = tolist(Q) if Q.dtype != torch.bool else Q.tolist()
    case["shape"] = list(Q.shape)
    case["repr"] = repr(Q)

    def grads_of(env):
        return {n: (None if env[n].grad is None else tolist(env[n].grad)) for n, _, _ in specs}

    try:
        Q.backward(grad_t)
    except Exception as e:
        case.update(error=err_text(e), error_type=type(e).__name__, error_at="backward")
        return case
    if backward_calls == 2:
        case["grads"] = grads_of(env)
        case["backward_calls"] = 2
        try:
            Q.backward(grad_t)
        except Exception as e:
            case.update(error=err_text(e), error_type=type(e).__name__, error_at="backward")
            return case
        raise AssertionError("expected the second backward to fail: " + cid)

    assert grad_t is not None or Q.dim() == 0, cid
    case["grads"] = grads_of(env)
    case["grad_reprs"] = {n: repr(env[n].grad) for n, _, _ in specs}
    case["graph"] = graph_of(Q, env)
    try:
        Q.backward(grad_t)
        case["second_backward_error"] = False
    except RuntimeError:
        case["second_backward_error"] = True

    env2 = make_leaves(specs, datas)
    Q2 = evaluate(expr, env2)
    Q2.backward(grad_t, retain_graph=True)
    Q2.backward(grad_t, retain_graph=True)
    case["retain_grads"] = grads_of(env2)
    return case


def autograd_cases():
    C = []

    def add(cid, specs, expr, gradient="rand", **kw):
        C.append(run_case(cid, specs, expr, gradient, **kw))

    v3 = (3,)
    m23 = (2, 3)
    # the tutorial, exactly
    add("tutorial", [T("a", [2.0, 3.0]), T("b", [6.0, 4.0])], "3*a**3 - b**2", [1.0, 1.0])

    # binary ops: tensor op tensor
    add("add_tt", [T("a", randn(m23)), T("b", randn(m23))], "a + b")
    add("sub_tt", [T("a", randn(m23)), T("b", randn(m23))], "a - b")
    add("mul_tt", [T("a", randn(m23)), T("b", randn(m23))], "a * b")
    add("div_tt", [T("a", randn(m23)), T("b", pos(m23))], "a / b")
    add("pow_tt", [T("a", pos(v3)), T("b", randn(v3))], "a ** b")
    add("matmul_tt", [T("a", randn(v3)), T("b", randn(v3))], "a @ b", None)
    # tensor op scalar
    add("add_ts", [T("a", randn(v3))], "a + 2")
    add("sub_ts", [T("a", randn(v3))], "a - 2.5")
    add("mul_ts", [T("a", randn(v3))], "a * 3")
    add("mul_ts_float", [T("a", randn(v3))], "a * 0.5")
    add("div_ts", [T("a", randn(v3))], "a / 4")
    add("pow_ts_int", [T("a", randn(v3))], "a ** 3")
    # scalar op tensor
    add("add_st", [T("a", randn(v3))], "2 + a")
    add("sub_st", [T("a", randn(v3))], "2 - a")
    add("sub_st_float", [T("a", randn(v3))], "1.5 - a")
    add("mul_st", [T("a", randn(v3))], "3 * a")
    add("div_st", [T("a", pos(v3))], "2 / a")
    add("pow_st", [T("a", randn(v3))], "2 ** a")
    add("pow_st_torch", [T("a", randn(v3))], "torch.pow(2, a)")
    # methods / torch functions for binary ops
    add("method_add", [T("a", randn(m23)), T("b", randn(m23))], "a.add(b)")
    add("method_sub", [T("a", randn(m23)), T("b", randn(m23))], "a.sub(b)")
    add("method_mul", [T("a", randn(m23)), T("b", randn(m23))], "a.mul(b)")
    add("method_div", [T("a", randn(m23)), T("b", pos(m23))], "a.div(b)")
    add("method_sub_scalar", [T("a", randn(v3))], "a.sub(1.5)")
    add("method_mul_scalar", [T("a", randn(v3))], "a.mul(2.5)")
    add("torch_add", [T("a", randn(m23)), T("b", randn(m23))], "torch.add(a, b)")
    add("torch_sub", [T("a", randn(m23)), T("b", randn(m23))], "torch.sub(a, b)")
    add("torch_mul", [T("a", randn(m23)), T("b", randn(m23))], "torch.mul(a, b)")
    add("torch_div", [T("a", randn(m23)), T("b", pos(m23))], "torch.div(a, b)")
    # unary minus / plus / neg
    add("unary_minus", [T("a", randn(v3))], "-a")
    add("unary_minus_expr", [T("a", randn(v3)), T("b", randn(v3))], "-(a * b) + -a * b")
    add("method_neg", [T("a", randn(v3))], "a.neg()")
    add("torch_neg", [T("a", randn(v3))], "torch.neg(a)")
    add("unary_plus", [T("a", randn(v3)), T("b", randn(v3))], "-a + +b")
    add("unary_plus_alone", [T("a", randn(v3))], "+a")
    add("leaf_alone", [T("a", randn(v3))], "a")
    # powers
    add("pow_int2", [T("a", randn(v3))], "a ** 2")
    add("pow_float_integral", [T("a", randn(v3))], "a ** 2.0")
    add("pow_float", [T("a", pos(v3))], "a ** 2.5")
    add("pow_half", [T("a", pos(v3))], "a ** 0.5")
    add("pow_neg_int", [T("a", pos(v3))], "a ** -1")
    add("pow_neg_float", [T("a", pos(v3))], "a ** -0.5")
    add("pow_zero", [T("a", randn(v3))], "a ** 0")
    add("pow_one", [T("a", randn(v3))], "a ** 1")
    add("pow_method", [T("a", randn(v3))], "a.pow(2)")
    add("pow_torch", [T("a", randn(v3))], "torch.pow(a, 3)")
    add("pow_method_tensor", [T("a", pos(v3)), T("b", randn(v3))], "a.pow(b)")
    add("pow_torch_tensor", [T("a", pos(v3)), T("b", randn(v3))], "torch.pow(a, b)")
    add("precedence_neg_pow", [T("a", randn(v3)), T("b", randn(v3))], "-a ** 2 + -2 ** 2 * b")
    add("pow_right_assoc", [T("a", randn(v3))], "a ** 2 ** 2")
    add("number_arith", [T("a", randn(v3))], "2 * 3 * a - (1 + 1) * a / 4")
    add("parens_assoc", [T("a", randn(v3)), T("b", pos(v3))], "a - b - a * (b + 2) / b / 2")
    # unary ops, method and torch.func form
    unary = [("exp", randn), ("log", pos), ("sqrt", pos), ("abs", randn), ("sin", randn),
             ("cos", randn), ("tanh", randn), ("sigmoid", randn), ("relu", randn)]
    for op, dom in unary:
        add("method_" + op, [T("a", dom(m23))], "a.%s()" % op)
        add("torch_" + op, [T("a", dom((4,)))], "torch.%s(a)" % op)
    # reductions
    add("sum_full", [T("a", randn(m23))], "a.sum()", None)
    add("sum_dim0", [T("a", randn(m23))], "a.sum(0)")
    add("sum_dim1", [T("a", randn(m23))], "a.sum(1)")
    add("sum_dim_neg", [T("a", randn(m23))], "a.sum(-1)")
    add("torch_sum", [T("a", randn(m23))], "torch.sum(a)", None)
    add("torch_sum_dim", [T("a", randn(m23))], "torch.sum(a, 1)")
    add("mean_full", [T("a", randn(m23))], "a.mean()", None)
    add("mean_dim0", [T("a", randn(m23))], "a.mean(0)")
    add("mean_dim1", [T("a", randn(m23))], "a.mean(1)")
    add("torch_mean", [T("a", randn(m23))], "torch.mean(a)", None)
    add("torch_mean_dim", [T("a", randn(m23))], "torch.mean(a, 0)")
    add("sum_dim_3d", [T("a", randn((2, 3, 4)))], "a.sum(1)")
    add("mean_dim_neg_3d", [T("a", randn((2, 3, 4)))], "a.mean(-1)")
    add("sum_0d", [T("s", randn(()))], "(s * 2).sum()", None)
    # matmul family
    add("matmul_1d_1d", [T("x", randn(v3)), T("y", randn(v3))], "x @ y", None)
    add("matmul_2d_1d", [T("W", randn(m23)), T("x", randn(v3))], "W @ x")
    add("matmul_1d_2d", [T("y", randn((2,))), T("W", randn(m23))], "y @ W")
    add("matmul_2d_2d", [T("A", randn(m23)), T("B", randn((3, 4)))], "A @ B")
    add("torch_matmul_2d_1d", [T("W", randn(m23)), T("x", randn(v3))], "torch.matmul(W, x)")
    add("torch_matmul_1d_2d", [T("y", randn((2,))), T("W", randn(m23))], "torch.matmul(y, W)")
    add("torch_matmul_1d_1d", [T("x", randn(v3)), T("y", randn(v3))], "torch.matmul(x, y)", None)
    add("method_matmul", [T("A", randn(m23)), T("B", randn((3, 2)))], "A.matmul(B)")
    add("torch_mm", [T("A", randn(m23)), T("B", randn((3, 4)))], "torch.mm(A, B)")
    add("torch_mv", [T("W", randn(m23)), T("x", randn(v3))], "torch.mv(W, x)")
    add("torch_dot", [T("x", randn(v3)), T("y", randn(v3))], "torch.dot(x, y)", None)
    # broadcasting
    add("bcast_2x3_plus_3", [T("a", randn(m23)), T("v", randn(v3))], "a + v")
    add("bcast_2x3_div_3", [T("a", randn(m23)), T("v", pos(v3))], "a / v")
    add("bcast_2x1_mul_1x3", [T("c", randn((2, 1))), T("r", randn((1, 3)))], "c * r")
    add("bcast_0d_mul_2d", [T("s", randn(())), T("A", randn(m23))], "s * A")
    add("bcast_1_plus_2d", [T("o", randn((1,))), T("A", randn(m23))], "A + o")
    add("bcast_3d_sub", [T("t", randn((2, 1, 3))), T("u", randn((4, 1)))], "t - u")
    add("bcast_4d_mul", [T("p", randn((2, 1, 2, 1))), T("q", randn((3, 1, 2)))], "p * q")
    add("bcast_4d_full", [T("p", randn((1, 2, 1, 3))), T("q", randn((2, 1, 2, 1)))],
        "(p * q + p).sum()", None)
    # composites
    add("composite_sigmoid",
        [T("a", randn(v3)), T("b", randn(v3))], "((a*b).sum() + a.exp().mean()).sigmoid()", None)
    # salt: re-seeded so that (W@x) has both signs
    add("composite_relu_mv", [T("W", randn((4, 3))), T("x", randn(v3))], "(W@x).relu().sum()", None,
        salt="#1")
    add("composite_layer", [T("W", randn((2, 3))), T("x", randn(v3)), T("bias", randn((2,)))],
        "(W@x + bias).tanh()")
    add("composite_mse", [T("W", randn((2, 3))), T("x", randn(v3)), T("y", randn((2,)))],
        "((W@x - y)**2).mean()", None)
    add("composite_softmax", [T("a", randn((4,)))], "a.exp() / a.exp().sum()")
    add("composite_silu", [T("a", randn((4,)))], "a / (1 + (-a).exp())")
    add("composite_logsumexp", [T("a", randn(m23))], "torch.exp(a).sum(1).log()")
    add("composite_std", [T("a", randn((5,)))], "(a - a.mean()).pow(2).mean().sqrt()", None)
    add("composite_trig", [T("a", pos(v3))], "a.sin() * a.cos() + a.sqrt().log()")
    add("composite_mlp",
        [T("W1", randn((3, 2))), T("W2", randn((1, 3))), T("X", randn((2, 4)))],
        "(W2 @ (W1 @ X).relu()).sigmoid().mean()", None)
    # leaves without grad / reused / unused
    add("no_grad_leaf", [T("a", randn(v3)), T("c", randn(v3), rg=False)], "a * c + c")
    add("no_grad_leaf_mv", [T("W", randn(m23)), T("x", randn(v3), rg=False)], "(W @ x).sum()", None)
    add("same_leaf_twice", [T("a", randn(v3))], "a*a + a")
    add("same_leaf_dot", [T("a", randn(v3))], "a @ a", None)
    add("same_leaf_many", [T("a", pos(v3))], "a.exp() * a.log() - a / a.sqrt()")
    add("unused_leaf", [T("a", randn(v3)), T("b", randn(v3))], "a * 2")
    add("no_saved_sub", [T("a", randn(v3)), T("b", randn(v3))], "a - b")
    add("no_saved_sum_mean", [T("a", randn(m23))], "a.sum() + a.mean()", None)

    # ---- error cases
    add("err_broadcast_1d", [T("a", randn((2,))), T("b", randn(v3))], "a + b", None)
    add("err_broadcast_2d", [T("A", randn(m23)), T("v", randn((2,)))], "A * v", None)
    add("err_mm_shapes", [T("A", randn(m23)), T("B", randn(m23))], "torch.mm(A, B)", None)
    add("err_mm_not_matrix", [T("x", randn(v3)), T("B", randn(m23))], "torch.mm(x, B)", None)
    add("err_matmul_2d_2d", [T("A", randn(m23)), T("B", randn(m23))], "A @ B", None)
    add("err_mv_shapes", [T("W", randn(m23)), T("y", randn((2,)))], "torch.mv(W, y)", None)
    add("err_mv_vector_first", [T("y", randn((2,))), T("W", randn(m23))], "torch.mv(y, W)", None)
    add("err_matmul_2d_1d", [T("W", randn(m23)), T("y", randn((2,)))], "W @ y", None)
    add("err_matmul_1d_2d", [T("x", randn(v3)), T("W", randn(m23))], "x @ W", None)
    add("err_dot_sizes", [T("x", randn(v3)), T("y", randn((2,)))], "torch.dot(x, y)", None)
    add("err_matmul_1d_1d", [T("x", randn(v3)), T("y", randn((2,)))], "x @ y", None)
    add("err_dot_2d", [T("W", randn(m23)), T("x", randn(v3))], "torch.dot(W, x)", None)
    add("err_sum_dim_range", [T("a", randn(m23))], "a.sum(2)", None)
    add("err_backward_non_scalar", [T("a", [2.0, 3.0]), T("b", [6.0, 4.0])], "3*a**3 - b**2", None)
    add("err_backward_no_grad", [T("a", randn((2,)), rg=False), T("b", randn((2,)), rg=False)],
        "a + b", [1.0, 1.0])
    add("err_backward_no_grad_no_gradient",
        [T("a", randn((2,)), rg=False), T("b", randn((2,)), rg=False)], "a + b", None)
    add("err_backward_no_grad_scalar", [T("a", randn((2,)), rg=False)], "a.sum()", None)
    add("err_backward_eq", [T("a", [1.0, 2.0]), T("b", [2.0, 4.0])], "a * 2 == b", [1.0, 1.0])
    add("err_backward_eq_precedence", [T("a", [1.0, 2.0]), T("b", [1.0, 1.5])],
        "a + 1 == b * 2", [1.0, 1.0])
    add("err_gradient_shape", [T("a", [2.0, 3.0]), T("b", [6.0, 4.0])], "3*a**3 - b**2",
        [1.0, 1.0, 1.0])
    add("err_gradient_shape_2d", [T("A", randn(m23))], "A * 2", [1.0, 1.0, 1.0])
    add("err_gradient_shape_before_no_grad", [T("a", randn((2,)), rg=False)], "a * 2",
        [1.0, 1.0, 1.0])
    add("err_second_backward", [T("a", [2.0, 3.0]), T("b", [6.0, 4.0])], "3*a**3 - b**2",
        [1.0, 1.0], backward_calls=2)
    add("err_second_backward_scalar", [T("a", randn(v3))], "(a * a).sum()", None,
        backward_calls=2)
    return C


# ----------------------------------------------------------------------------- scenarios

def run_steps(steps, prints=None, root="Q"):
    """Run a step program the way docs/engine-protocol.md section 3 describes it."""
    env, order = {}, []
    for i, st in enumerate(steps):
        op = st["op"]
        try:
            if op == "tensor":
                env[st["name"]] = torch.tensor(st["data"], dtype=F32, requires_grad=st["requires_grad"])
            elif op == "assign":
                if st["no_grad"]:
                    with torch.no_grad():
                        env[st["name"]] = evaluate(st["expr"], env)
                else:
                    env[st["name"]] = evaluate(st["expr"], env)
            elif op == "backward":
                gr = st["gradient"]
                env[st["name"]].backward(None if gr is None else torch.tensor(gr, dtype=F32),
                                         retain_graph=st["retain_graph"])
            elif op == "zero_grad":
                for t in env.values():
                    if t.is_leaf and t.grad is not None:
                        t.grad.zero_()
            elif op == "snapshot":
                pass
            else:
                raise AssertionError(op)
        except Exception as e:
            return {"error": {"step": i, "error": err_text(e), "error_type": type(e).__name__}}
        if op in ("tensor", "assign") and st["name"] not in order:
            order.append(st["name"])
    tensors = {}
    for n in order:
        t = env[n]
        grad = t.grad if t.is_leaf else None   # non-leaf .grad is always None (and warns)
        data = t.tolist()
        check_finite(data)
        tensors[n] = {
            "data": data, "shape": list(t.shape), "leaf": t.is_leaf,
            "requires_grad": t.requires_grad,
            "grad_fn": None if t.grad_fn is None else type(t.grad_fn).__name__,
            "repr": repr(t),
            "grad": None if grad is None else tolist(grad),
            "grad_repr": repr(grad),
        }
    expect = {"error": None, "tensors": tensors}
    if root in env:
        expect["graph"] = graph_of(env[root], env)
    if prints is not None:
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            prints(env)
        expect["prints"] = buf.getvalue()
    return expect


def scenarios():
    S = []
    a = {"op": "tensor", "name": "a", "data": [2.0, 3.0], "requires_grad": True}
    b = {"op": "tensor", "name": "b", "data": [6.0, 4.0], "requires_grad": True}
    b_nograd = dict(b, requires_grad=False)
    Q = {"op": "assign", "name": "Q", "expr": "3*a**3 - b**2", "no_grad": False}
    Q_nograd = dict(Q, no_grad=True)

    def bw(retain=False, gradient=(1.0, 1.0)):
        return {"op": "backward", "name": "Q",
                "gradient": None if gradient is None else list(gradient), "retain_graph": retain}
    snap = {"op": "snapshot", "root": "Q"}

    def add(sid, steps, prints=None):
        S.append({"id": sid, "steps": steps, "expect": run_steps(steps, prints)})

    def tutorial_prints(env):
        a, b = env["a"], env["b"]
        print(9*a**2 == a.grad, a.grad)
        print(-2*b == b.grad, b.grad)

    add("tutorial", [a, b, Q, bw(),
                     {"op": "assign", "name": "check_a", "expr": "9*a**2 == a.grad", "no_grad": False},
                     {"op": "assign", "name": "check_b", "expr": "-2*b == b.grad", "no_grad": False},
                     snap], tutorial_prints)
    add("retain_graph", [a, b, Q, bw(retain=True), bw(), snap])
    add("zero_grad", [a, b, Q, bw(), {"op": "zero_grad"}, snap])
    add("zero_grad_then_backward", [a, b, Q, bw(), {"op": "zero_grad"}, Q, bw(), snap])
    add("accumulate_fresh_graph", [a, b, Q, bw(), Q, bw(), snap])
    add("no_grad", [a, b, Q_nograd, snap])
    add("no_grad_backward_error", [a, b, Q_nograd, bw()])
    add("requires_grad_false_b", [a, b_nograd, Q, bw(), snap])
    add("backward_non_scalar_error", [a, b, Q, bw(gradient=None)])
    add("second_backward_error", [a, b, Q, bw(), bw()])
    return S


# ----------------------------------------------------------------------------- repr cases

def enc(x):
    if isinstance(x, list):
        return [enc(v) for v in x]
    if isinstance(x, float) and not math.isfinite(x):
        return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")
    return x


def same_bits(x, y):
    return x.shape == y.shape and torch.equal(x.view(torch.int32), y.view(torch.int32))


GRAD_OPS = {
    "mul1": lambda x: x * 1,
    "sub0": lambda x: x - 0,
    "div1": lambda x: x / 1,
    "negneg": lambda x: -(-x),
}


def repr_case(cid, t, requires_grad=False, grad_op=None):
    if t.dtype == torch.bool:
        assert not requires_grad and grad_op is None
        shown = t
    elif grad_op is not None:
        leaf = t.clone().requires_grad_(True)
        shown = GRAD_OPS[grad_op](leaf)
        assert same_bits(shown.detach(), t), cid
    else:
        shown = t.clone().requires_grad_(requires_grad)
    gf = None if shown.grad_fn is None else type(shown.grad_fn).__name__
    return {"id": cid, "data": enc(t.tolist()), "shape": list(t.shape),
            "dtype": "bool" if t.dtype == torch.bool else "float32",
            "requires_grad": bool(shown.requires_grad), "grad_fn": gf, "repr": repr(shown)}


def suffix_boundary(make, suffix_kw, lo, hi):
    """Sizes n-1, n around the first n in [lo, hi) where the suffix moves to a new line."""
    prev = None
    for n in range(lo, hi):
        r = repr(make(n, **suffix_kw))
        wrapped = ",\n" in r.rsplit("]", 1)[-1]
        if prev is not None and wrapped and not prev:
            return [n - 1, n]
        prev = wrapped
    raise AssertionError("no boundary")


def repr_cases():
    R = []

    def f(data):
        return torch.tensor(data, dtype=F32)

    def add(cid, t, requires_grad=False, grad_op=None):
        R.append(repr_case(cid, t, requires_grad, grad_op))

    nan, inf = float("nan"), float("inf")
    # integer-valued floats
    add("int_basic", f([36.0, 81.0]))
    add("int_neg_padding", f([-12.0, -8.0]))
    add("int_mixed_padding", f([-12.0, 65.0]))
    add("int_ratio_1000", f([1.0, 10.0, 100.0, 1000.0]))
    add("int_neg_ratio_1000", f([-1000.0, 1.0]))
    add("int_1e8", f([100000000.0, 200000.0]))
    add("int_sci_ratio", f([1.0, 10001.0]))
    add("int_sci_max", f([200000000.0, 300000000.0]))
    add("int_sci_neg", f([-5.0, 123456.0, 7.0]))
    # fixed 4-decimal mode
    add("fixed_basic", f([0.5, 0.25, 1.125]))
    add("fixed_round", f([1.23456, -2.5, 0.12345]))
    add("fixed_ties", f([0.03125, 0.09375, 1.0]))
    add("fixed_ratio_1000", f([0.5, 500.0, 0.75]))
    add("fixed_wide", f([-1234.5, 3.25, 999.5]))
    add("sci_wide", f([-1234.5, 3.25, 99999.5]))
    add("fixed_min_1e4", f([0.00011, 0.5]))
    # scientific mode
    add("sci_min", f([0.00001, 1.0]))
    add("sci_min_f32_1e4", f([0.0001, 1.0]))
    add("sci_ratio", f([0.5, 1234.5]))
    add("sci_max", f([1.5e9, 2.0]))
    add("sci_neg", f([-3.5e-7, 2.25, -1.0]))
    add("sci_big_exp", f([1.5e-30, 2.5e30]))
    # zeros, negative zero
    add("zeros_1d", f([0.0, 0.0]))
    add("zeros_2d", torch.zeros(2, 2))
    add("neg_zero", f([-0.0, 1.0]))
    add("neg_zero_fixed", f([-0.0, 0.5]))
    add("neg_zero_only", f([-0.0]))
    add("neg_zero_sci", f([-0.0, 0.00001, 2.0]))
    # non-finite
    add("nan_inf_int", f([nan, 1.0, -inf]))
    add("inf_fixed", f([inf, 2.5]))
    add("nan_only", f([nan]))
    add("nonfinite_only", f([nan, inf, -inf]))
    add("nan_fixed_wide", f([0.1, nan, 1000.0]))
    add("inf_sci", f([0.00001, inf, -2.0]))
    add("nan_zero", f([0.0, nan]))
    # 0-d
    add("scalar_int", f(3.0))
    add("scalar_fixed", f(0.5))
    add("scalar_neg_fixed", f(-2.25))
    add("scalar_sci_small", f(0.00001))
    add("scalar_sci_big", f(1e10))
    add("scalar_int_big", f(123456.0))
    add("scalar_zero", f(0.0))
    add("scalar_neg_zero", f(-0.0))
    add("scalar_nan", f(nan))
    add("scalar_neg_inf", f(-inf))
    add("scalar_requires_grad", f(3.0), requires_grad=True)
    add("scalar_grad_fn", f(24.0), grad_op="mul1")
    # empty
    add("empty_1d", f([]))
    add("empty_1d_requires_grad", f([]), requires_grad=True)
    add("empty_2d", torch.zeros(0, 3))
    add("empty_bool", torch.tensor([], dtype=torch.bool))
    # nesting
    add("nd2_int", f([[1.0, 2.0], [3.0, 4.0]]))
    add("nd2_fixed", f([[0.5, -1.25, 3.0], [10.5, 2.0, -0.125]]))
    add("nd2_sci", f([[1e-5, 1.0], [2.0, -300.0]]))
    add("nd3", torch.arange(12, dtype=F32).reshape(2, 2, 3) - 5)
    add("nd3_fixed", (torch.arange(12, dtype=F32).reshape(3, 2, 2) - 5) / 4)
    add("nd4", torch.arange(16, dtype=F32).reshape(2, 2, 2, 2))
    add("nd4_grad_fn", torch.arange(24, dtype=F32).reshape(2, 3, 2, 2) / 8, grad_op="div1")
    add("nd2_single_row", f([[1.5, 2.5, 3.5]]))
    add("nd3_singletons", f([[[7.0]]]))
    # wrapping at linewidth 80
    add("wrap_1d_int", torch.arange(30, dtype=F32))
    add("wrap_1d_fixed", round2(torch.randn(20, generator=gen_for("wrap_1d_fixed"))))
    add("wrap_1d_sci", torch.tensor([1.5 * 10 ** k for k in range(-6, 8)], dtype=F32))
    add("wrap_2d_rows", round2(torch.randn(3, 12, generator=gen_for("wrap_2d_rows"))))
    add("wrap_3d_rows", torch.arange(2 * 2 * 25, dtype=F32).reshape(2, 2, 25))
    # summarisation (> 1000 elements, edgeitems 3)
    add("summ_1d_1001", torch.arange(1001, dtype=F32))
    # odd multiples of 1/16: never integral, short in JSON
    add("summ_1d_fixed",
        (torch.round(torch.randn(2000, generator=gen_for("summ_1d_fixed")) * 8) + 0.5) / 8)
    big = torch.arange(1500, dtype=F32) / 4 + 1
    big[700] = 1e12          # in the hidden middle: must not switch the format to sci
    add("summ_1d_hidden_big", big)
    add("summ_1d_wrap_sci", torch.arange(1200, dtype=F32) * 12345.0 + 0.5)
    add("summ_2d", torch.arange(1600, dtype=F32).reshape(40, 40))
    add("summ_2d_int", (torch.arange(1600, dtype=F32).reshape(40, 40) % 500) + 1)
    add("summ_2d_wide", (torch.arange(1200, dtype=F32).reshape(2, 600) - 600) / 8)
    add("summ_2d_tall", torch.arange(1200, dtype=F32).reshape(600, 2))
    add("summ_3d", torch.arange(1100, dtype=F32).reshape(11, 10, 10))
    add("summ_1d_requires_grad", torch.arange(1001, dtype=F32), requires_grad=True)
    add("summ_2d_grad_fn", torch.arange(1600, dtype=F32).reshape(40, 40) / 2, grad_op="mul1")
    # bool
    add("bool_1d", torch.tensor([True, False]))
    add("bool_padding", torch.tensor([False, True, True]))
    add("bool_scalar", torch.tensor(True))
    add("bool_2d", torch.tensor([[True, False, True], [False, False, True]]))
    add("bool_all_true", torch.tensor([True, True]))
    # suffixes
    add("requires_grad_1d", f([2.0, 3.0]), requires_grad=True)
    add("requires_grad_2d", f([[2.0, 3.0], [4.5, -1.0]]), requires_grad=True)
    add("grad_fn_sub", f([-12.0, 65.0]), grad_op="sub0")
    add("grad_fn_mul", f([1.0, 0.6667]), grad_op="mul1")
    add("grad_fn_neg", f([[0.5, -2.0], [3.0, 1e-5]]), grad_op="negneg")
    add("grad_fn_nan", f([nan, 1.0]), grad_op="mul1")

    # suffix wrapping onto a new line when the last line is long
    def row(n, requires_grad=False, grad_op=None):
        t = torch.arange(n, dtype=F32) + 0.5
        if grad_op:
            return GRAD_OPS[grad_op](t.requires_grad_(True))
        return t.requires_grad_(requires_grad)

    for n in suffix_boundary(row, {"requires_grad": True}, 1, 12):
        add("suffix_rg_n%d" % n, torch.arange(n, dtype=F32) + 0.5, requires_grad=True)
    for n in suffix_boundary(row, {"grad_op": "mul1"}, 1, 12):
        add("suffix_grad_fn_n%d" % n, torch.arange(n, dtype=F32) + 0.5, grad_op="mul1")
    # multi-line: the last line's length decides
    for n in suffix_boundary(row, {"requires_grad": True}, 12, 40):
        add("suffix_rg_multiline_n%d" % n, torch.arange(n, dtype=F32) + 0.5, requires_grad=True)
    add("suffix_2d_grad_fn_long_row",
        round2(torch.randn(2, 8, generator=gen_for("suffix_2d_grad_fn_long_row"))) * 10,
        grad_op="mul1")
    add("suffix_2d_rg_short_row", f([[1.5, 2.5], [3.5, 4.5]]), requires_grad=True)
    return R


# ----------------------------------------------------------------------------- output

def dump(path, sections):
    parts = []
    for key, items in sections:
        lines = [json.dumps(it, separators=(",", ":"), allow_nan=False) for it in items]
        parts.append('"%s":[\n' % key + ",\n".join(lines) + "\n]")
    text = "{" + ",\n".join(parts) + "}\n"
    json.loads(text)
    with open(path, "w") as fh:
        fh.write(text)


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    cases = autograd_cases()
    ids = [c["id"] for c in cases]
    assert len(ids) == len(set(ids))
    dump(os.path.join(OUT_DIR, "autograd.json"), [("cases", cases), ("scenarios", scenarios())])
    reprs = repr_cases()
    ids = [c["id"] for c in reprs]
    assert len(ids) == len(set(ids))
    dump(os.path.join(OUT_DIR, "repr.json"), [("cases", reprs)])
    n_err = sum(1 for c in cases if "error" in c)
    print("autograd.json: %d cases (%d errors); repr.json: %d cases" % (len(cases), n_err, len(reprs)))


if __name__ == "__main__":
    main()
