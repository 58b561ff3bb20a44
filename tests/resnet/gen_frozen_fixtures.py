#!/usr/bin/python3
"""Generate the fixtures of the "Finetuning and Frozen parameters" lesson's engine exports
(tests/resnet/frozen.test.mjs): printouts and parameter counts, load reports, writing a
tensor, who gets a .grad, BatchNorm's running stats, torchvision's preprocessing of a PIL
image and the top-5 of the ImageNet head. Runs at test time; the outputs are NOT committed.

    /usr/bin/python3 tests/resnet/gen_frozen_fixtures.py OUTDIR       (build/frozen-fixtures)

Needs PyTorch 1.13, torchvision 0.14 and Pillow (only /usr/bin/python3 has them here).
Deterministic (fixed seeds, one intra-op thread, PNGs without timestamps): two runs give
byte-identical files. ~15 s, ~230 MB (a resnet34 state_dict is most of it).

The model is gen_resnet_fixtures.py's (torch.manual_seed(0); resnet18() with BatchNorm made
non-trivial), saved as resnet18.pth; the lesson's head is torch.manual_seed(1);
nn.Linear(512, 10). The input of the model cases is the torchvision preprocessing of one
generated image (a batch of 1, as the page runs it), so the figures are the lesson's.
Everything is described in OUTDIR/manifest.json.
"""

import contextlib
import io
import os
import struct
import sys
import time
import zipfile

import numpy as np
import torch
import torch.nn as nn
import torchvision
import torchvision.transforms as T
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_resnet_fixtures import Out, make_backbone, new_head, safetensors_bytes, write_manifest  # noqa: E402

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)

MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
SIZES = [(300, 200), (200, 300), (640, 480), (100, 80), (257, 256), (256, 256), (1001, 333)]   # (w, h)
TARGET = 3                                   # class of the one-image batch (10-class head)
# (name, requires_grad paths after "freeze all + new fc"): the lesson's freeze toggles.
FREEZE_STATES = [
    ("fc", ["fc"]),
    ("layer4_fc", ["layer4", "fc"]),
    ("all", [""]),
    ("layer2.0.conv1.weight_fc", ["layer2.0.conv1.weight", "fc"]),
]
# Parameter counts: the same, and one parameter alone (fc frozen too).
COUNT_STATES = [
    ("fc", ["fc"]),
    ("layer4_fc", ["layer4", "fc"]),
    ("all", [""]),
    ("layer2.0.bn1.weight", ["layer2.0.bn1.weight"]),
]


# ----------------------------------------------------------------------------- images

def noise_image(w, h, seed):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def smooth_image(w, h):
    """Gradients in R and G, a slanted sine wave in B: what resampling must keep smooth."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    r = 255 * x / max(w - 1, 1)
    g = 255 * y / max(h - 1, 1)
    b = 127.5 + 127.5 * np.sin(2 * np.pi * (1.5 * x / w + 0.7 * y / h))
    return np.rint(np.stack([r, g, b], axis=-1)).clip(0, 255).astype(np.uint8)


PREPROCESS = T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor(), T.Normalize(MEAN, STD)])


def write_images(out):
    """Each image: a PNG written by Pillow, then read back as torchvision users do
    (Image.open(f).convert('RGB')) and run through Resize(256), CenterCrop(224), ToTensor,
    Normalize step by step; the raw RGBA bytes for the Node test (no PNG decoder there)."""
    images, tensors = [], {}
    for kind in ("noise", "smooth"):
        for i, (w, h) in enumerate(SIZES):
            name = f"{kind}_{w}x{h}"
            rgb = noise_image(w, h, 100 + i) if kind == "noise" else smooth_image(w, h)
            png = os.path.join(out.root, "images", f"{name}.png")
            os.makedirs(os.path.dirname(png), exist_ok=True)
            Image.fromarray(rgb, "RGB").save(png, optimize=False)
            out._add(f"images/{name}.png", kind="png", desc=f"{kind} image {w}x{h}, RGB")
            img = Image.open(png).convert("RGB")
            assert np.array_equal(np.asarray(img), rgb), "PNG is lossless"
            resized = T.Resize(256)(img)
            cropped = T.CenterCrop(224)(resized)
            tensor = T.Normalize(MEAN, STD)(T.ToTensor()(cropped))
            assert torch.equal(tensor, PREPROCESS(img)), "the steps are the Compose"
            rw, rh = resized.size
            entry = {
                "name": name, "kind": kind, "width": w, "height": h,
                "png": f"images/{name}.png",
                "rgba": out.npy(f"images/{name}.rgba.npy", np.asarray(img.convert("RGBA")),
                                "Image.open(png).convert('RGBA') (alpha 255): (H, W, 4) uint8"),
                "resized_size": [rw, rh],
                "crop_left_top": [int(round((rw - 224) / 2.0)), int(round((rh - 224) / 2.0))],
                "resized": out.npy(f"images/{name}.resized.npy", np.asarray(resized),
                                   "T.Resize(256)(img): Pillow's img.resize((w, h), BILINEAR), (h, w, 3) uint8"),
                "cropped": out.npy(f"images/{name}.cropped.npy", np.asarray(cropped),
                                   "T.CenterCrop(224)(resized): (224, 224, 3) uint8"),
                "tensor": out.npy(f"images/{name}.tensor.npy", tensor,
                                  "T.Normalize(mean, std)(T.ToTensor()(cropped)): (3, 224, 224) float32"),
            }
            images.append(entry)
            tensors[name] = tensor
    return images, tensors


# ----------------------------------------------------------------------------- models

def lesson_model(sd, paths, mode="eval", fc_frozen=False):
    """Load, freeze every parameter, new 10-class fc (seed 1), then requires_grad on `paths`
    (module or parameter paths; "" = everything)."""
    m = torchvision.models.resnet18()
    m.load_state_dict(sd)
    for p in m.parameters():
        p.requires_grad_(False)
    m.fc = new_head()
    if fc_frozen:
        m.fc.requires_grad_(False)
    for path in paths:
        if path == "":
            m.requires_grad_(True)
        elif path in dict(m.named_parameters()):
            m.get_parameter(path).requires_grad_(True)
        else:
            m.get_submodule(path).requires_grad_(True)
    m.train(mode == "train")
    return m


def printed(fn):
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        fn()
    return buf.getvalue()


def output_shapes(m, x):
    """Every module's output shape (named_modules paths, "" = the model) for input x."""
    shapes, hooks = {}, []

    def keep(name, o):   # a hook that returns something replaces the output: return None
        shapes.setdefault(name, list(o.shape))

    for name, mod in m.named_modules():
        hooks.append(mod.register_forward_hook(lambda _m, _i, o, name=name: keep(name, o)))
    with torch.no_grad():
        m(x)
    for h in hooks:
        h.remove()
    return shapes


def graph_counts(loss):
    """Nodes of loss's autograd graph by name (each node once), as next_functions reach them."""
    counts, seen, stack = {}, set(), [loss.grad_fn]
    while stack:
        fn = stack.pop()
        if fn is None or fn in seen:
            continue
        seen.add(fn)
        counts[fn.name()] = counts.get(fn.name(), 0) + 1
        stack.extend(nxt for nxt, _ in fn.next_functions)
    return counts


def forward_order(m, x):
    """Leaf modules in the order forward calls them (first call)."""
    order, hooks = [], []

    def called(name):
        if name not in order:
            order.append(name)

    for name, mod in m.named_modules():
        if not list(mod.children()):
            hooks.append(mod.register_forward_hook(lambda *_a, name=name: called(name)))
    with torch.no_grad():
        m(x)
    for h in hooks:
        h.remove()
    return order


def grads_case(sd, name, paths, x):
    m = lesson_model(sd, paths)
    loss = nn.functional.cross_entropy(m(x), torch.tensor([TARGET]))
    loss.backward()
    grads = {k: p.grad for k, p in m.named_parameters() if p.grad is not None}
    modules = dict(m.named_modules())
    first = next(n for n in forward_order(m, x)
                 if any(p.grad is not None for p in modules[n].parameters(recurse=False)))
    # The same in float64: how far PyTorch's own float32 norms are from the exact ones.
    m64 = lesson_model(sd, paths).double()
    loss64 = nn.functional.cross_entropy(m64(x.double()), torch.tensor([TARGET]))
    loss64.backward()
    norms64 = {k: p.grad.norm().item() for k, p in m64.named_parameters() if p.grad is not None}
    return {
        "id": f"grads_{name}", "requires_grad": paths, "mode": "eval", "target": TARGET,
        "desc": "load, freeze all, fc = Linear(512, 10) after manual_seed(1), requires_grad on the paths; "
                "eval(); loss = F.cross_entropy(model(x), [target]); loss.backward()",
        "loss": loss.item(),
        "grad_params": list(grads),
        "grad_norms": {k: g.double().norm().item() for k, g in grads.items()},
        "grad_norms_float64": norms64,
        "first_grad_module": first,
        "graph_nodes": graph_counts(loss),
        "graph_nodes_note": "loss.grad_fn's graph by node name; AccumulateGrad = one per parameter with a "
                            ".grad, TBackward0 = fc.weight.t() inside F.linear",
    }


def count_case(sd, name, paths):
    m = lesson_model(sd, paths, fc_frozen=True)
    per_child = {n: [sum(p.numel() for p in c.parameters()),
                     sum(p.numel() for p in c.parameters() if p.requires_grad)] for n, c in m.named_children()}
    return {"id": f"count_{name}", "requires_grad": paths, "fc_frozen": True,
            "num_params": sum(p.numel() for p in m.parameters()),
            "trainable_params": sum(p.numel() for p in m.parameters() if p.requires_grad),
            "children": per_child}


# ----------------------------------------------------------------------------- bad weights

def torch_zip(pkl, prefix="archive"):
    """A zip laid out as torch.save writes it (data.pkl, version), stored."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        for name, data in ((f"{prefix}/data.pkl", pkl), (f"{prefix}/version", b"3\n")):
            z.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data)
    return buf.getvalue()


def u32str(s):
    return b"X" + struct.pack("<I", len(s)) + s.encode()


# Pickles that call something when unpickled, written opcode by opcode (never loaded
# here except by torch.load(weights_only=True), which must refuse them).
FORBIDDEN = {
    # os.system("true") as the whole file: GLOBAL 'os system', a 1-tuple, REDUCE
    "os_system": b"\x80\x02cos\nsystem\n" + u32str("true") + b"\x85R.",
    # an OrderedDict whose fc.weight is builtins.eval("1+1")
    "builtins_eval": (b"\x80\x02ccollections\nOrderedDict\n)R(" + u32str("fc.weight")
                      + b"cbuiltins\neval\n" + u32str("1+1") + b"\x85Ru."),
    # protocol 4's STACK_GLOBAL: posix.system, as pickle.dumps(os.system) writes it on Linux
    "stack_global": (b"\x80\x04\x8c\x05posix\x8c\x06system\x93" + b"\x8c\x04true\x85R."),
}


def bad_weights(out, sd, images):
    cases = []

    def expect_torch_error(rel, load):
        """torch's refusal as 'Type: message'."""
        try:
            load()
        except Exception as e:   # noqa: BLE001 (any refusal; its text is recorded)
            return f"{type(e).__name__}: {e}"
        raise AssertionError(f"torch accepted {rel}")

    torch.manual_seed(0)
    sd34 = torchvision.models.resnet34().state_dict()
    torch.save(sd34, os.path.join(out.root, "bad", "resnet34.pth"))
    out._add("bad/resnet34.pth", kind="pth", keys=len(sd34), desc="torch.save(resnet34().state_dict())")
    msg = expect_torch_error("resnet34", lambda: torchvision.models.resnet18().load_state_dict(sd34))
    cases.append({"file": "bad/resnet34.pth", "what": "a resnet34 state_dict (strict load into resnet18)",
                  "torch_error": msg, "message": msg.split(": ", 1)[1]})

    mixed = {"conv1.weight": torch.zeros(64, 3, 3, 3), "foo.weight": torch.zeros(2)}
    torch.save(mixed, os.path.join(out.root, "bad", "mixed.pth"))
    out._add("bad/mixed.pth", kind="pth", keys=2, desc="conv1.weight of the wrong shape and an unknown key")
    msg = expect_torch_error("mixed", lambda: torchvision.models.resnet18().load_state_dict(mixed))
    cases.append({"file": "bad/mixed.pth", "what": "missing keys, an unexpected key, a size mismatch",
                  "torch_error": msg, "message": msg.split(": ", 1)[1]})

    cases.append({"file": images[0]["png"], "what": "a PNG image's bytes", "pattern": "PNG image"})

    st = safetensors_bytes(sd)
    for rel, n in (("bad/truncated_data.safetensors", len(st) // 2), ("bad/truncated_header.safetensors", 4096)):
        out.raw(rel, st[:n], "safetensors-truncated", f"the first {n} of {len(st)} bytes of resnet18.safetensors")
        cases.append({"file": rel, "what": f"safetensors cut at byte {n}", "pattern": "^safetensors: "})

    for name, pkl in FORBIDDEN.items():
        rel = f"bad/{name}.pth"
        out.raw(rel, torch_zip(pkl), "pth-forbidden", f"a torch-style zip whose data.pkl calls {name}")
        path = os.path.join(out.root, rel)
        msg = expect_torch_error(rel, lambda path=path: torch.load(path, weights_only=True))
        pattern = {"os_system": "forbidden global 'os\\.system'", "builtins_eval": "forbidden global 'builtins\\.eval'",
                   "stack_global": "opcode 0x93"}[name]
        cases.append({"file": rel, "what": f"a .pth whose pickle calls {name}", "torch_error": msg,
                      "pattern": pattern})
    return cases


# ----------------------------------------------------------------------------- main

def main(outdir):
    t0 = time.time()
    out = Out(outdir)
    os.makedirs(os.path.join(outdir, "bad"), exist_ok=True)
    images, tensors = write_images(out)

    backbone = make_backbone()
    sd = {k: v.clone() for k, v in backbone.state_dict().items()}
    torch.save(sd, os.path.join(outdir, "resnet18.pth"))
    out._add("resnet18.pth", kind="pth", keys=len(sd), desc="gen_resnet_fixtures.py's resnet18 (1000 classes)")
    out.raw("resnet18.safetensors", safetensors_bytes(sd), "safetensors", "the same as safetensors", keys=len(sd))

    x_name = "smooth_640x480"
    x = tensors[x_name].unsqueeze(0)
    x2_names = ["smooth_640x480", "noise_300x200"]
    x2 = torch.stack([tensors[n] for n in x2_names])
    out.npy("x.npy", x, f"the preprocessed {x_name}: (1, 3, 224, 224)")
    out.npy("x2.npy", x2, f"the preprocessed {' and '.join(x2_names)}: (2, 3, 224, 224)")
    cases = []

    # 1. printouts, output shapes, parameter counts
    m = lesson_model(sd, ["fc"])
    cases.append({
        "id": "printouts", "desc": "resnet18 with fc = Linear(512, 10) (seed 1)",
        "children_repr": printed(lambda: [print(c) for c in m.children()]),
        "fc_repr": printed(lambda: print(m.fc)),
        "repr": repr(m),
        "output_shapes_224": output_shapes(m, torch.zeros(1, 3, 224, 224)),
        "param_numel": {k: p.numel() for k, p in m.named_parameters()},
    })
    cases += [count_case(sd, name, paths) for name, paths in COUNT_STATES]

    # 4. who gets a .grad
    cases += [grads_case(sd, name, paths, x) for name, paths in FREEZE_STATES]

    # 3. writing tensors into the state_dict
    g = torch.Generator().manual_seed(11)
    new = {"conv1.weight": 0.05 * torch.randn(64, 3, 7, 7, generator=g),
           "layer1.0.conv1.weight": 0.03 * torch.randn(64, 64, 3, 3, generator=g),
           "bn1.running_var": 0.5 + torch.rand(64, generator=g)}
    m = torchvision.models.resnet18()
    m.load_state_dict(sd)
    m.eval()
    with torch.no_grad():
        before = m(x)
        for k, v in new.items():
            m.state_dict()[k].copy_(v)
        after = m(x)
    cases.append({"id": "set_tensor", "input": "x.npy", "mode": "eval",
                  "desc": "1000 classes; logits, then state_dict()[k].copy_(v) for each tensor, logits again",
                  "tensors": out.npy_dict("set_tensor", new, "the new value"),
                  "logits_before": out.npy("set_tensor/logits_before.npy", before, "logits (1, 1000)"),
                  "logits_after": out.npy("set_tensor/logits_after.npy", after, "logits (1, 1000)"),
                  "tolerance": {"rtol": 1e-4, "atol": 1e-4}})

    # 5. BatchNorm's running stats: a train-mode forward under no_grad, everything frozen
    m = torchvision.models.resnet18()
    m.load_state_dict(sd)
    m.requires_grad_(False)
    m.train()
    with torch.no_grad():
        m(x2)
    bn = {k: m.state_dict()[k] for k in ("bn1.running_mean", "bn1.running_var", "layer4.1.bn2.running_mean",
                                         "layer4.1.bn2.running_var")}
    cases.append({"id": "bn_train_frozen", "input": "x2.npy",
                  "desc": "requires_grad_(False); train(); with torch.no_grad(): model(x2)",
                  "buffers": out.npy_dict("bn_train_frozen", bn, "after one train-mode forward"),
                  "num_batches_tracked": int(m.bn1.num_batches_tracked)})

    # 7. top-5 of the ImageNet head on a preprocessed image
    m = torchvision.models.resnet18()
    m.load_state_dict(sd)
    m.eval()
    for im in images:
        with torch.no_grad():
            logits = m(tensors[im["name"]].unsqueeze(0))[0]
        top = torch.topk(logits, 6)
        # An image whose top 6 logits are well apart, so the order cannot flip on rounding.
        if (top.values[:-1] - top.values[1:]).min().item() > 1e-2:
            p = torch.softmax(logits, 0)
            cases.append({"id": "top5", "image": im["name"], "mode": "eval",
                          "desc": "softmax(model(preprocess(image)))'s 5 largest, most likely first",
                          "indices": top.indices[:5].tolist(), "probs": p[top.indices[:5]].tolist(),
                          "min_logit_gap": (top.values[:-1] - top.values[1:]).min().item()})
            break
    else:
        raise AssertionError("no image has a clear top 5")

    # 2. bad weights
    cases.append({"id": "load_failures", "cases": bad_weights(out, sd, images)})

    manifest = {
        "format": "gradbox-frozen-fixtures/1",
        "generator": "tests/resnet/gen_frozen_fixtures.py",
        "torch": torch.__version__, "torchvision": torchvision.__version__,
        "pillow": Image.__version__, "numpy": np.__version__,
        "preprocess": "T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor(), T.Normalize(MEAN, STD)]) on "
                      "Image.open(png).convert('RGB')",
        "mean": MEAN, "std": STD,
        "state_dict_keys": len(sd),
        "images": images,
        "files": out.files,
        "cases": cases,
    }
    write_manifest(outdir, manifest, t0)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
