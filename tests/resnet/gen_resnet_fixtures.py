#!/usr/bin/python3
"""Generate the ResNet-18 fixtures that Gradbox's model, weight readers and fine-tuning are
checked against. Runs at test time; the outputs are NOT committed.

    /usr/bin/python3 tests/resnet/gen_resnet_fixtures.py OUTDIR

Needs the real PyTorch 1.13 + torchvision 0.14 (here only importable from /usr/bin/python3).
Deterministic (fixed seeds, one intra-op thread): two runs give byte-identical files, except
resnet18_legacy.pth (the old format names storages by memory address). ~15 s, ~450 MB.

The model (no downloads; "pretrained" weights are made, not fetched):
  1. torch.manual_seed(0); m = torchvision.models.resnet18()        default init, 1000 classes
  2. BatchNorm made non-trivial, as training would leave it:
       running_mean/var = the batch statistics of one train-mode forward (momentum=None) of
                          torch.randn(4,3,224,224) from Generator seed 4 (unbiased variance)
       weight = 1 + 0.1 randn, bias = 0.1 randn (Generator seed 2, BN modules in order)
       num_batches_tracked = 7
     NOTE: with the default init (mean 0, var 1, weight 1, bias 0) eval-mode BN is the
     identity, so a reader or op that ignored any of these tensors would still pass; and
     the eval-mode activations would grow block by block (features ~10x a trained net's),
     making 3 SGD steps at lr 1e-2 diverge.
  3. fine-tuning cases: torch.manual_seed(1); m.fc = nn.Linear(512, 10)   (the tutorial's new head)

Every file, its shape, the mode it was computed in and a suggested tolerance is described in
OUTDIR/manifest.json (see tests/resnet/README.md for the format).
"""

import io
import json
import os
import struct
import sys
import time
import zipfile

import numpy as np
import torch
import torch.nn as nn
import torchvision

torch.set_num_threads(1)          # one thread: sums in a fixed order, identical runs
torch.use_deterministic_algorithms(True)

TARGETS_1000 = [207, 932]         # for the 1000-class head
TARGETS_10 = [3, 7]               # for the fine-tuning head
LR, MOMENTUM, SGD_STEPS = 1e-2, 0.9, 3
BN_REPORT = ["bn1", "layer1.0.bn1", "layer2.0.downsample.1", "layer3.1.bn2", "layer4.1.bn2"]

TOL_LOGITS = {"rtol": 1e-4, "atol": 1e-4, "note": "relative to max|expected|; float32, different summation order"}
TOL_LOSS = {"rtol": 1e-4, "atol": 1e-5}
TOL_GRAD = {"rtol": 1e-3, "atol": 1e-5, "note": "relative to max|expected| of the tensor"}
TOL_PARAMS = {"rtol": 1e-4, "atol": 1e-6}
TOL_BN = {"rtol": 1e-4, "atol": 1e-6}
TOL_EXACT = {"rtol": 0, "atol": 0, "note": "bit-exact round trip"}


# ----------------------------------------------------------------------------- model

def make_backbone():
    torch.manual_seed(0)
    m = torchvision.models.resnet18()          # weights=None: default init, no download
    # Calibrate the running stats the way training would leave them: one train-mode forward of
    # 4 random images with momentum=None (running = that batch's mean and unbiased variance).
    calib = torch.randn(4, 3, 224, 224, generator=torch.Generator().manual_seed(4))
    bns = [mod for mod in m.modules() if isinstance(mod, nn.BatchNorm2d)]
    for bn in bns:
        bn.momentum = None
        bn.reset_running_stats()
    m.train()
    with torch.no_grad():
        m(calib)
    g = torch.Generator().manual_seed(2)
    with torch.no_grad():
        for bn in bns:
            C = bn.num_features
            bn.momentum = 0.1
            bn.weight.copy_(1 + 0.1 * torch.randn(C, generator=g))
            bn.bias.copy_(0.1 * torch.randn(C, generator=g))
            bn.num_batches_tracked.fill_(7)
    return m.eval()


def new_head():
    torch.manual_seed(1)
    return nn.Linear(512, 10)


def fine_tune_model(sd, mode, unfrozen=("fc",)):
    """The tutorial's recipe: load weights, freeze everything, new 10-class fc, unfreeze some."""
    m = torchvision.models.resnet18()
    m.load_state_dict(sd)
    for p in m.parameters():
        p.requires_grad_(False)
    m.fc = new_head()
    for name, p in m.named_parameters():
        p.requires_grad_(any(name == u or name.startswith(u + ".") for u in unfrozen))
    m.train(mode == "train")
    return m


# ----------------------------------------------------------------------------- writers

class Out:
    def __init__(self, root):
        self.root = root
        self.files = {}
        os.makedirs(root, exist_ok=True)

    def _add(self, rel, **desc):
        self.files[rel] = desc

    def npy(self, rel, t, desc, **extra):
        a = t.detach().cpu().numpy() if torch.is_tensor(t) else np.asarray(t)
        path = os.path.join(self.root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        np.save(path, a)
        self._add(rel, kind="npy", dtype=str(a.dtype), shape=list(a.shape), desc=desc, **extra)
        return rel

    def npy_dict(self, folder, tensors, desc, **extra):
        """One .npy per tensor, named by its state_dict key: FOLDER/<key>.npy."""
        keys = []
        for k, t in tensors.items():
            self.npy(f"{folder}/{k}.npy", t, f"{desc}: {k}", **extra)
            keys.append(k)
        return {"folder": folder, "keys": keys}

    def raw(self, rel, data, kind, desc, **extra):
        with open(os.path.join(self.root, rel), "wb") as f:
            f.write(data)
        self._add(rel, kind=kind, bytes=len(data), desc=desc, **extra)


def write_manifest(root, manifest, t0=None):
    """ROOT/manifest.json, written last (fixtures.mjs regenerates when it is older than a
    generator); with t0, says what was written and how long it took."""
    with open(os.path.join(root, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    if t0 is not None:
        print(f"wrote {len(manifest.get('files', {}))} files and {len(manifest.get('cases', []))} cases to {root} "
              f"in {time.time() - t0:.1f} s")


def pth_bytes(sd):
    """torch.save to memory: the zip's top folder is then 'archive' (not the file name)."""
    buf = io.BytesIO()
    torch.save(sd, buf)
    return buf.getvalue()


def zip_prefix(path):
    with zipfile.ZipFile(path) as z:
        return z.namelist()[0].split("/")[0]


def rename_zip_prefix(src, dst, prefix):
    """Rewrite a torch zip with another top folder. Python's zipfile does not keep torch's 64-byte
    alignment of the data records, so this also checks a reader that does not rely on it."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_STORED) as zout:
        for info in zin.infolist():
            rest = info.filename.split("/", 1)[1]
            zout.writestr(zipfile.ZipInfo(f"{prefix}/{rest}", date_time=(1980, 1, 1, 0, 0, 0)),
                          zin.read(info.filename))


ST_DTYPE = {torch.float32: "F32", torch.int64: "I64"}


def safetensors_bytes(sd, library_order=False):
    """The safetensors format, by hand (the module is not installed): u64 LE header length,
    JSON header {name: {dtype, shape, data_offsets: [begin, end)}} padded with spaces to a
    multiple of 8, then the raw little-endian data, offsets relative to its start.
    library_order: data laid out as the safetensors library does (dtype size descending, then
    name: the I64 counters first), header keys sorted by name, no __metadata__."""
    header, blobs, off = ({} if library_order else {"__metadata__": {"format": "pt"}}), [], 0
    items = list(sd.items())
    if library_order:
        items.sort(key=lambda kv: (-kv[1].element_size(), kv[0]))
    for k, t in items:
        b = t.detach().contiguous().cpu().numpy().tobytes()
        header[k] = {"dtype": ST_DTYPE[t.dtype], "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":"), sort_keys=library_order).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + b"".join(blobs)


# ----------------------------------------------------------------------------- cases

def ce(logits, targets):
    return nn.functional.cross_entropy(logits, torch.tensor(targets))


def grads_of(m):
    return {n: p.grad for n, p in m.named_parameters() if p.requires_grad}


def main(outdir):
    t0 = time.time()
    out = Out(outdir)
    cases = []

    backbone = make_backbone()
    sd = {k: v.clone() for k, v in backbone.state_dict().items()}
    sd_nobt = {k: v for k, v in sd.items() if not k.endswith("num_batches_tracked")}
    assert len(sd) == 122 and len(sd_nobt) == 102

    # --- weight files -------------------------------------------------------------------
    torch.save(sd, os.path.join(outdir, "resnet18.pth"))
    out._add("resnet18.pth", kind="pth", keys=len(sd), zip_prefix=zip_prefix(os.path.join(outdir, "resnet18.pth")),
             desc="torch.save(state_dict) of the 1000-class model, 122 keys incl. num_batches_tracked (int64)")
    out.raw("resnet18_archive.pth", pth_bytes(sd), "pth", "same state_dict, torch.save to a BytesIO: zip top folder "
            "'archive', which does not match the file name", keys=len(sd), zip_prefix="archive")
    rename_zip_prefix(os.path.join(outdir, "resnet18.pth"), os.path.join(outdir, "resnet18_renamed.pth"),
                      "gradbox-weights.v1")
    assert torch.equal(torch.load(os.path.join(outdir, "resnet18_renamed.pth"))["fc.weight"], sd["fc.weight"])
    out._add("resnet18_renamed.pth", kind="pth", keys=len(sd), zip_prefix="gradbox-weights.v1",
             desc="resnet18.pth rewritten by Python's zipfile with top folder 'gradbox-weights.v1' (a dot in "
                  "it; data records NOT 64-byte aligned); torch.load accepts it")
    torch.save(sd_nobt, os.path.join(outdir, "resnet18_nobt.pth"))
    out._add("resnet18_nobt.pth", kind="pth", keys=len(sd_nobt), zip_prefix="resnet18_nobt",
             desc="the same without the 20 num_batches_tracked entries (102 keys), as some checkpoints are")
    torch.save(sd, os.path.join(outdir, "resnet18_legacy.pth"), _use_new_zipfile_serialization=False)
    out._add("resnet18_legacy.pth", kind="pth-legacy", keys=len(sd),
             desc="pre-1.6 (non-zip) torch.save format (torch.load still reads it); Gradbox may reject it, "
                  "with a clear message. NOT byte-identical between runs (storage keys are addresses)")
    out.raw("resnet18.safetensors", safetensors_bytes(sd), "safetensors",
            "safetensors of the same 122 tensors (F32, num_batches_tracked I64), state_dict order",
            keys=len(sd))
    out.raw("resnet18_libstyle.safetensors", safetensors_bytes(sd, library_order=True), "safetensors",
            "the same tensors laid out as the safetensors library does: data in (dtype size desc, name) "
            "order, so the 20 I64 counters come first; header keys sorted by name; no __metadata__",
            keys=len(sd))
    for k in ("fc.weight", "conv1.weight", "layer4.1.bn2.running_var", "bn1.num_batches_tracked"):
        out.npy(f"weights/{k}.npy", sd[k], f"a few tensors of the state_dict, to check a reader by value")

    # --- inputs ---------------------------------------------------------------------------
    g = torch.Generator().manual_seed(3)
    x = torch.randn(2, 3, 224, 224, generator=g)
    x_small = torch.randn(2, 3, 64, 64, generator=g)
    out.npy("x.npy", x, "input: torch.randn(2,3,224,224) from Generator seed 3")
    out.npy("x_small.npy", x_small, "input: torch.randn(2,3,64,64), drawn right after x (reduced-size variant)")

    # --- eval forward + loss (1000 classes) ----------------------------------------------------
    for tag, inp in (("", x), ("_small", x_small)):
        with torch.no_grad():
            logits = backbone(inp)
        loss = ce(logits, TARGETS_1000)
        cases.append({
            "id": f"eval_logits{tag}", "model": "resnet18.pth", "mode": "eval", "input": f"x{tag}.npy",
            "desc": "model.eval(); logits = model(x); loss = F.cross_entropy(logits, targets) (mean)",
            "targets": TARGETS_1000,
            "outputs": {"logits": out.npy(f"eval_logits{tag}.npy", logits, "eval-mode logits (N,1000)"),
                        "loss": loss.item()},
            "tolerance": {"logits": TOL_LOGITS, "loss": TOL_LOSS},
        })

    # --- fine-tuning grads: frozen backbone / layer4 unfrozen, eval and train ---------------
    fc10 = new_head()
    out.npy("fc10/weight.npy", fc10.weight, "the new head's initial weight: torch.manual_seed(1); nn.Linear(512,10)")
    out.npy("fc10/bias.npy", fc10.bias, "the new head's initial bias")
    everything = ("conv1", "bn1", "layer1", "layer2", "layer3", "layer4", "fc")
    for unfrozen, uname in ((("fc",), "fc"), (("layer4", "fc"), "layer4_fc"), (everything, "all")):
        for mode in ("eval", "train"):
            for tag, inp in (("", x), ("_small", x_small)):
                if tag and mode == "train" and uname == "fc":
                    continue
                if uname == "all" and tag:   # all: at 224 only
                    continue
                m = fine_tune_model(sd, mode, unfrozen)
                # Everything trainable: PyTorch's own float32 gradients are up to 92 (eval) and
                # 9.9 (train) tolerances away from its float64 ones (layer3.0.conv2.weight,
                # layer1.1.conv1.weight): the deep gradients are ill-conditioned in float32. So the
                # reference is PyTorch in float64 (stored as float32), and each tensor's float32
                # error is kept: a float32 engine must be within the tolerance or within twice
                # PyTorch's own float32 error, whichever is larger.
                exact = uname == "all"
                if exact:
                    m32 = m
                    ce(m32(inp), TARGETS_10).backward()
                    g32 = grads_of(m32)
                    m = fine_tune_model(sd, mode, unfrozen).double()
                logits = m(inp.double() if exact else inp)
                loss = ce(logits, TARGETS_10)
                loss.backward()
                if exact:
                    logits = logits.float()
                    f32_error = {k: (g32[k].double() - g).abs().max().item() for k, g in grads_of(m).items()}
                cid = f"grads_{uname}_{mode}{tag}"
                cases.append({
                    "id": cid, "model": "resnet18.pth + fc10", "mode": mode, "input": f"x{tag}.npy",
                    "requires_grad": list(unfrozen),
                    "desc": f"load weights, freeze all, fc = fc10 (seed 1), unfreeze {'+'.join(unfrozen)}; "
                            f"model.{mode}(); loss = F.cross_entropy(model(x), targets); loss.backward()",
                    "targets": TARGETS_10,
                    "outputs": {"logits": out.npy(f"{cid}/logits.npy", logits, f"{mode}-mode logits (N,10)"),
                                "loss": loss.item(),
                                "grads": out.npy_dict(f"{cid}/grad", {k: g.float() for k, g in grads_of(m).items()},
                                                      f"{cid} .grad")},
                    "tolerance": {"logits": TOL_LOGITS, "loss": TOL_LOSS, "grads": TOL_GRAD},
                })
                if exact:
                    cases[-1]["reference"] = "float64"
                    cases[-1]["torch_float32_error"] = f32_error
                    cases[-1]["desc"] += ("; computed in float64 (model.double()), stored as float32; "
                                          "torch_float32_error: max |float32 grad - float64 grad| per tensor")
                if mode == "train":   # the frozen BN layers still update their running stats
                    cases[-1]["note"] = ("train mode: BN uses batch statistics (biased var) and updates "
                                         "running stats even though its parameters are frozen")

    # --- 3 SGD steps on fc only (the tutorial's optimizer over ALL parameters) -----------------
    for mode in ("eval", "train"):
        m = fine_tune_model(sd, mode)
        opt = torch.optim.SGD(m.parameters(), lr=LR, momentum=MOMENTUM)
        losses = []
        cid = f"sgd_fc_{mode}"
        for step in range(1, SGD_STEPS + 1):
            opt.zero_grad()
            loss = ce(m(x), TARGETS_10)
            loss.backward()
            opt.step()
            losses.append(loss.item())
            out.npy(f"{cid}/step{step}/fc.weight.npy", m.fc.weight, f"fc.weight after step {step}")
            out.npy(f"{cid}/step{step}/fc.bias.npy", m.fc.bias, f"fc.bias after step {step}")
        m.eval()
        with torch.no_grad():   # what a .pth written after these steps must give (check_written --expect)
            final = m(x)
        case = {
            "id": cid, "model": "resnet18.pth + fc10", "mode": mode, "input": "x.npy",
            "requires_grad": ["fc"], "targets": TARGETS_10,
            "desc": f"optim.SGD(model.parameters(), lr={LR}, momentum={MOMENTUM}); {SGD_STEPS} x (zero_grad, "
                    "forward, cross_entropy, backward, step); losses[i] is the loss BEFORE step i+1",
            "outputs": {"losses": losses,
                        "final_eval_logits": out.npy(f"{cid}/final_eval_logits.npy", final,
                                                     "model.eval() logits on x after the 3 steps (train: "
                                                     "with the BN running stats those forwards moved)"),
                        "params": {f"step{s}": {"folder": f"{cid}/step{s}", "keys": ["fc.weight", "fc.bias"]}
                                   for s in range(1, SGD_STEPS + 1)}},
            "tolerance": {"losses": TOL_LOSS, "params": TOL_PARAMS, "final_eval_logits": TOL_LOGITS},
        }
        if mode == "train":
            bn = m.bn1
            case["outputs"]["bn1.num_batches_tracked"] = int(bn.num_batches_tracked)
            case["note"] = "train mode: 3 forwards also move BN running stats (num_batches_tracked 7 -> 10)"
        # the backbone must be untouched by the optimizer (frozen: .grad stays None)
        assert all(torch.equal(v, sd[k]) for k, v in m.state_dict().items()
                   if not k.startswith("fc.") and "running" not in k and "num_batches" not in k)
        cases.append(case)

    # --- BN running stats after one train-mode forward ----------------------------------------
    m = make_backbone().train()
    with torch.no_grad():
        m(x)
    msd = m.state_dict()
    keep = {}
    for layer in BN_REPORT:
        for b in ("running_mean", "running_var"):
            keep[f"{layer}.{b}"] = msd[f"{layer}.{b}"]
    nbt = {layer: int(msd[f"{layer}.num_batches_tracked"]) for layer in BN_REPORT}
    cases.append({
        "id": "bn_train_forward", "model": "resnet18.pth", "mode": "train", "input": "x.npy",
        "desc": "model.train(); with torch.no_grad(): model(x). running = (1-0.1)*running + 0.1*batch "
                "(running_var uses the UNBIASED batch variance, n/(n-1)); num_batches_tracked += 1",
        "outputs": {"buffers": out.npy_dict("bn_train_forward", keep, "BN buffer after one train forward"),
                    "num_batches_tracked": nbt},
        "tolerance": {"buffers": TOL_BN},
    })

    # --- round trip expectation for the writer ---------------------------------------------------
    cases.append({
        "id": "roundtrip", "model": "resnet18.pth", "mode": "none",
        "desc": "reading any of the weight files and writing .pth/.safetensors must give the same 122 "
                "tensors bit for bit (check with tests/resnet/check_written.py --ref resnet18.pth)",
        "tolerance": {"tensors": TOL_EXACT},
    })

    manifest = {
        "format": "gradbox-resnet-fixtures/1",
        "generator": "tests/resnet/gen_resnet_fixtures.py",
        "torch": torch.__version__, "torchvision": torchvision.__version__, "numpy": np.__version__,
        "model": {
            "arch": "torchvision.models.resnet18()",
            "init": "torch.manual_seed(0); resnet18() default init; BN running stats = batch stats of one "
                    "train forward (momentum=None) of randn(4,3,224,224) from Generator seed 4; then every "
                    "BatchNorm2d in module order, Generator seed 2: weight=1+0.1*randn(C), bias=0.1*randn(C); "
                    "num_batches_tracked=7",
            "fc10": "torch.manual_seed(1); nn.Linear(512, 10)",
            "state_dict_keys": list(sd.keys()),
        },
        "loss": "torch.nn.functional.cross_entropy, reduction='mean'",
        "files": out.files,
        "cases": cases,
    }
    write_manifest(outdir, manifest, t0)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
