#!/usr/bin/python3
"""Fixtures for the "Finetuning and Frozen parameters" lesson's end-to-end tests, made by the
real PyTorch 1.13 + torchvision 0.14 at test time (not committed; ~230 MB, ~15 s):

    /usr/bin/python3 tests/e2e/frozen/gen_frozen_page_fixtures.py OUTDIR

Deterministic (fixed seeds, one intra-op thread): two runs give byte-identical files.
OUTDIR/manifest.json lists every file with its size, SHA-256 and what it holds; the format is
described in tests/e2e/frozen/README.md. Rules:
  - The "pretrained" weights are `torch.manual_seed(S); resnet18(weights=None).state_dict()`
    (S = 0, and S = 1 for a second, distinguishable file). Everything else is computed from the
    seed-0 file as written and read back (torch.load(weights_only=True), strict load).
  - The tutorial's model: load, freeze every parameter, `torch.manual_seed(0); model.fc =
    nn.Linear(512, 10)`. Gradients are taken in eval mode on the cat.png sample (lossless, so
    the page decodes exactly the pixels PIL does), target class 3.
  - Every broken file is refused by a strict loader; the manifest says why, with PyTorch's own
    error text where PyTorch gives one.
"""
import contextlib
import hashlib
import io
import json
import pathlib
import struct
import sys
import time
import zipfile

import numpy as np
import PIL
import torch
import torch.nn.functional as F
import torchvision
from PIL import Image
from torch import nn
from torchvision import transforms

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.path.insert(0, str(ROOT / "tests" / "resnet"))
from check_written import read_safetensors  # noqa: E402  the strict reference reader
from gen_resnet_fixtures import safetensors_bytes  # noqa: E402

torch.set_num_threads(1)          # one thread: sums in a fixed order, identical runs
torch.use_deterministic_algorithms(True)

SAMPLES = ROOT / "assets" / "samples"
CLASSES = json.loads((ROOT / "assets" / "imagenet_classes.json").read_text(encoding="utf-8"))
GRAD_INPUT = "cat.png"
TARGET = 3
FC_SEED = 0
PREPROCESS = transforms.Compose([
    transforms.Resize(256), transforms.CenterCrop(224), transforms.ToTensor(),
    transforms.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])])
# Freeze states: the parameter-name prefixes left trainable after freezing everything.
STATES = {
    "tutorial": ["fc"],
    "layer4_fc": ["layer4", "fc"],
    "all": ["conv1", "bn1", "layer1", "layer2", "layer3", "layer4", "fc"],
    "layer2.0.bn1_fc": ["layer2.0.bn1", "fc"],
}


class Out:
    """Writes files under the output folder and describes each in self.files."""

    def __init__(self, root):
        self.root = pathlib.Path(root)
        self.files = {}

    def bytes(self, rel, data, kind, desc, **extra):
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        self.files[rel] = {"kind": kind, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(),
                           "desc": desc, **extra}
        return path

    def text(self, rel, text, desc):
        return self.bytes(rel, text.encode(), "text", desc)

    def json(self, rel, obj, desc, indent=1):
        return self.bytes(rel, (json.dumps(obj, indent=indent) + "\n").encode(), "json", desc)

    def npy(self, rel, a, desc):
        a = a.detach().numpy() if torch.is_tensor(a) else np.asarray(a)
        buf = io.BytesIO()
        np.save(buf, a)
        return self.bytes(rel, buf.getvalue(), "npy", desc, dtype=str(a.dtype), shape=list(a.shape))


def printed(*objs):
    """Exactly what print(obj) prints for each obj, one call each."""
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        for o in objs:
            print(o)
    return buf.getvalue()


def torch_error(fn):
    """str() of the exception fn raises (the text PyTorch shows), or None if it succeeds."""
    try:
        fn()
    except Exception as e:  # noqa: BLE001  any refusal is the point
        return {"type": type(e).__name__, "message": str(e)}
    return None


def seeded_state_dict(arch, seed):
    torch.manual_seed(seed)
    return arch(weights=None).state_dict()


def pth_bytes(sd):
    buf = io.BytesIO()
    torch.save(sd, buf)
    return buf.getvalue()


def load_pth(path):
    with open(path, "rb") as f:
        return torch.load(f, weights_only=True)


def tutorial_model(sd):
    """resnet18 with the given weights (strict), every parameter frozen, as the tutorial does."""
    model = torchvision.models.resnet18(weights=None)
    model.load_state_dict(sd, strict=True)
    for param in model.parameters():
        param.requires_grad = False
    return model


def unfreeze(model, prefixes):
    for name, p in model.named_parameters():
        p.requires_grad = any(name == u or name.startswith(u + ".") for u in prefixes)


def write_weights(out):
    sds = {}
    for seed in (0, 1):
        sd = seeded_state_dict(torchvision.models.resnet18, seed)
        assert len(sd) == 122
        desc = f"torch.manual_seed({seed}); torchvision.models.resnet18(weights=None).state_dict()"
        out.bytes(f"weights/resnet18_seed{seed}.safetensors", safetensors_bytes(sd), "safetensors",
                  desc + ": F32, num_batches_tracked I64, state_dict order, __metadata__ {format: pt}",
                  keys=len(sd), seed=seed)
        if seed == 0:
            out.bytes("weights/resnet18_seed0.pth", pth_bytes(sd), "pth", desc + ": torch.save (zip, top "
                      "folder 'archive')", keys=len(sd), seed=seed)
        sds[seed] = sd
    back = load_pth(out.root / "weights/resnet18_seed0.pth")
    st, _ = read_safetensors(str(out.root / "weights/resnet18_seed0.safetensors"))
    assert all(torch.equal(back[k], v) and torch.equal(st[k], v) for k, v in sds[0].items())
    return back


def forbidden_pickle():
    """A pickle whose loading would call os.system (GLOBAL 'os system', then REDUCE):
    {'conv1.weight': os.system('echo ...')}. The command is harmless; no loader may run it."""
    def unicode(s):
        b = s.encode()
        return b"X" + struct.pack("<I", len(b)) + b
    return (b"\x80\x02" + b"}" + unicode("conv1.weight") + b"cos\nsystem\n"
            + unicode("echo gradbox fixture: this .pth ran a shell command") + b"\x85" + b"R" + b"s" + b".")


def zip_bytes(members):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        for name, data in members.items():
            z.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data)
    return buf.getvalue()


def write_broken(out, sd0):
    good = safetensors_bytes(sd0)
    (hlen,) = struct.unpack("<Q", good[:8])
    cut = 8 + hlen + (len(good) - 8 - hlen) // 2
    png = io.BytesIO()
    Image.open(SAMPLES / "cat.png").resize((32, 32), Image.BILINEAR).save(png, "PNG")
    broken = {
        "png_renamed.pth": (png.getvalue(), "a 32x32 PNG image (the cat) renamed .pth: not a zip, not a pickle"),
        "truncated.safetensors": (good[:cut], f"weights/resnet18_seed0.safetensors cut after {cut} of "
                                  f"{len(good)} bytes, in the middle of the tensor data: the header's "
                                  "data_offsets run past the end of the file"),
        "empty.safetensors": (b"", "0 bytes: shorter than the 8-byte header length"),
        "resnet34.pth": (pth_bytes(seeded_state_dict(torchvision.models.resnet34, 0)),
                         "torch.manual_seed(0); resnet34(weights=None).state_dict(), torch.save: a valid file "
                         "for the wrong model (resnet18 refuses it with strict=True: 96 unexpected keys)"),
        "forbidden_global.pth": (zip_bytes({"archive/data.pkl": forbidden_pickle(), "archive/version": b"3\n"}),
                                 "a torch-style zip (archive/data.pkl, archive/version) whose pickle is "
                                 "GLOBAL 'os system' + REDUCE, i.e. {'conv1.weight': os.system('echo ...')}: "
                                 "code execution, which torch.load(weights_only=True) refuses"),
    }
    for name, (data, reason) in broken.items():
        path = out.bytes(f"broken/{name}", data, "broken", reason)
        entry = out.files[f"broken/{name}"]
        if name.endswith(".safetensors"):
            entry["refused_by"] = "a strict safetensors reader (tests/resnet/check_written.py's read_safetensors)"
            entry["reader_error"] = torch_error(lambda: read_safetensors(str(path)))["message"]
            entry["torch_error"] = None      # PyTorch 1.13 has no safetensors loader
        elif name == "resnet34.pth":
            entry["refused_by"] = "resnet18().load_state_dict(torch.load(f, weights_only=True), strict=True)"
            entry["torch_error"] = torch_error(
                lambda: torchvision.models.resnet18(weights=None).load_state_dict(load_pth(path), strict=True))
        else:
            entry["refused_by"] = "torch.load(f, weights_only=True)"
            entry["torch_error"] = torch_error(lambda: load_pth(path))
        assert entry.get("torch_error") or entry.get("reader_error"), f"{name} was not refused"


def preprocess_samples(out):
    """Each sample through PIL + torchvision's transforms; the intermediate images for the page."""
    listing = json.loads((SAMPLES / "samples.json").read_text(encoding="utf-8"))
    inputs = {}
    for s in listing:
        name = s["file"]
        img = Image.open(SAMPLES / name).convert("RGB")
        resized = transforms.Resize(256)(img)
        cropped = transforms.CenterCrop(224)(resized)
        x = PREPROCESS(img)
        d = f"samples/{name}"
        out.npy(f"{d}/resized.npy", np.asarray(resized), f"{name}: uint8 (H,W,3) after Resize(256) (PIL bilinear)")
        out.npy(f"{d}/cropped.npy", np.asarray(cropped), f"{name}: uint8 (224,224,3) after CenterCrop(224)")
        out.npy(f"{d}/input.npy", x, f"{name}: float32 (3,224,224) after ToTensor and Normalize")
        inputs[name] = x.unsqueeze(0)
    return inputs


def top5(out, sd0, inputs):
    model = tutorial_model(sd0).eval()
    result = {"model": "seed-0 weights, 1000-class head, model.eval(), torch.no_grad()",
              "preprocess": "Image.open(p).convert('RGB'); Resize(256), CenterCrop(224), ToTensor(), "
                            "Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])",
              "samples": {}}
    for name, x in inputs.items():
        with torch.no_grad():
            logits = model(x)[0]
        out.npy(f"samples/{name}/logits.npy", logits, f"{name}: the seed-0 model's eval logits (1000,)")
        probs = logits.softmax(0)
        p, idx = probs.topk(5)
        top6 = logits.topk(6).values
        result["samples"][name] = {
            "top5": [{"index": int(i), "name": CLASSES[i], "prob": float(pi), "logit": float(logits[i])}
                     for pi, i in zip(p.tolist(), idx.tolist())],
            # how far the order is from a swap: a logit error below half this keeps the top 5 as listed
            "min_logit_gap_top6": float((top6[:-1] - top6[1:]).min()),
        }
    out.json("top5.json", result, "top-5 ImageNet classes of each sample under the seed-0 (random) weights")


def printouts_and_states(out, sd0, x):
    model = tutorial_model(sd0)
    out.text("children.txt", printed(*model.children()),
             "for child in model.children(): print(child)   (frozen, before replacing fc)")
    out.text("model.txt", printed(model), "print(model) before replacing fc (1000 classes)")
    dir_before = dir(model)
    torch.manual_seed(FC_SEED)
    model.fc = nn.Linear(512, 10)
    out.npy("fc10/weight.npy", model.fc.weight, f"torch.manual_seed({FC_SEED}); nn.Linear(512, 10): weight")
    out.npy("fc10/bias.npy", model.fc.bias, "the same Linear's bias")
    out.text("fc.txt", printed(model.fc), "print(model.fc) after model.fc = nn.Linear(512, 10)")
    out.text("model_fc10.txt", printed(model), "print(model) after replacing fc")
    out.json("dir.json", {"torch": torch.__version__, "torchvision": torchvision.__version__,
                          "before_fc": dir_before, "after_fc": dir(model), "same": dir_before == dir(model)},
             "dir(model): before and after model.fc = nn.Linear(512, 10)")
    out.json("named_parameters.json", [[n, list(p.shape), p.numel()] for n, p in model.named_parameters()],
             "[name, shape, numel] of model.named_parameters() after replacing fc, in order", indent=None)

    model.eval()
    states, grads = {}, {}
    for sid, prefixes in STATES.items():
        unfreeze(model, prefixes)
        params = list(model.named_parameters())
        total = sum(p.numel() for _, p in params)
        trainable = sum(p.numel() for _, p in params if p.requires_grad)
        states[sid] = {"trainable_prefixes": prefixes, "total": total, "trainable": trainable,
                       "summary": f"trainable {trainable:,} of {total:,}",
                       "requires_grad": [n for n, p in params if p.requires_grad]}
        model.zero_grad(set_to_none=True)
        logits = model(x)
        loss = F.cross_entropy(logits, torch.tensor([TARGET]))
        loss.backward()
        grads[sid] = {"loss": loss.item(), "logits": logits[0].tolist(),
                      "grad_norm": {n: (None if p.grad is None else p.grad.norm().item()) for n, p in params}}
    assert states["tutorial"]["summary"] == "trainable 5,130 of 11,181,642"
    out.json("states.json", states, "four freeze states of the tutorial's model (fc = Linear(512, 10)): "
             "parameter counts and the names with requires_grad, in named_parameters order")
    out.json("grads.json", {"mode": "eval", "input": f"samples/{GRAD_INPUT}/input.npy", "target": TARGET,
                            "code": "model.eval(); model.zero_grad(set_to_none=True); "
                                    "loss = F.cross_entropy(model(x), torch.tensor([3])); loss.backward()",
                            "grad_norm": "L2 norm of .grad, null where .grad is None", "states": grads},
             "who gets a .grad in each freeze state of states.json")


def bn_trap(out, sd0, x):
    model = tutorial_model(sd0)
    bn = model.bn1

    def snapshot():
        return {"running_mean": bn.running_mean.tolist(), "running_var": bn.running_var.tolist(),
                "num_batches_tracked": int(bn.num_batches_tracked)}
    before = snapshot()
    model.train()
    with torch.no_grad():
        model(x)
    after_train = snapshot()
    model.eval()
    with torch.no_grad():
        model(x)
    after_eval = snapshot()
    assert after_eval == after_train and after_train != before
    out.json("bn.json", {"layer": "bn1", "input": f"samples/{GRAD_INPUT}/input.npy", "momentum": bn.momentum,
                         "eps": bn.eps, "all_frozen": True,
                         "rule": "train mode, even frozen and under no_grad: running = (1-momentum)*running + "
                                 "momentum*batch (running_var takes the UNBIASED batch variance, n/(n-1), "
                                 "n = N*H*W); num_batches_tracked += 1. Eval mode: unchanged",
                         "before": before, "after_train_forward": after_train, "after_eval_forward": after_eval},
             "bn1's buffers on the seed-0 model, all frozen: before, after a train-mode forward, after an "
             "eval-mode forward")


def main(outdir):
    t0 = time.time()
    out = Out(outdir)
    sd0 = write_weights(out)
    write_broken(out, sd0)
    inputs = preprocess_samples(out)
    x = inputs[GRAD_INPUT]
    top5(out, sd0, inputs)
    printouts_and_states(out, sd0, x)
    bn_trap(out, sd0, x)
    manifest = {
        "format": "gradbox-frozen-page-fixtures/1",
        "generator": "tests/e2e/frozen/gen_frozen_page_fixtures.py",
        "torch": torch.__version__, "torchvision": torchvision.__version__, "numpy": np.__version__,
        "pil": PIL.__version__,
        "weights": "torch.manual_seed(S); torchvision.models.resnet18(weights=None).state_dict(), S = 0 (and 1)",
        "tutorial_model": f"resnet18(); load_state_dict(seed 0, strict=True); freeze every parameter; "
                          f"torch.manual_seed({FC_SEED}); model.fc = nn.Linear(512, 10)",
        "grad_mode": "eval",
        "grad_input": f"samples/{GRAD_INPUT}/input.npy",
        "target": TARGET,
        "state_dict_keys": list(sd0.keys()),
        "files": out.files,
    }
    (out.root / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    print(f"wrote {len(out.files)} files to {outdir} in {time.time() - t0:.1f} s")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
