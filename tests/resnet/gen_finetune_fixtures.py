#!/usr/bin/python3
"""Generate the fixtures of the fine-tuning engine calls (tests/resnet/finetune-engine.test.mjs):
training runs of a ResNet-18 in real PyTorch 1.13 that the engine must reproduce, and the order
torch's DataLoader visits a dataset in. Runs at test time; the outputs are NOT committed.

    /usr/bin/python3 tests/resnet/gen_finetune_fixtures.py OUTDIR     (build/finetune-fixtures)

Deterministic (fixed seeds, one intra-op thread). ~10 s, ~50 MB (the .pth is most of it).

- resnet18.pth: gen_resnet_fixtures.py's seeded random backbone (BatchNorm made non-trivial).
- x.npy (N, 3, 64, 64) float32, y.npy (N,) int64: N = 21 "drawn" images in C = 3 classes (a
  colour wash, a stripe or a square over noise: what a random backbone can tell apart), in a
  fixed shuffled order. 21 with batch 8 makes batches of 8, 8 and 5 (a partial last batch).
- features.npy: torch.flatten(model.avgpool(...), 1) of x in eval mode (fc's input).
- cases: each a run of the recipe below; losses.npy (one per batch, in order), and the
  trainable tensors after the run (<case>/final/<key>.npy):
      model.load_state_dict(sd); every parameter frozen; torch.manual_seed(HEAD_SEED);
      model.fc = nn.Linear(512, C); unfreeze `unfreeze`; model.train(mode)
      opt = SGD / Adam(filter(lambda p: p.requires_grad, model.parameters()), ...)
      loader = DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True,
                          generator=torch.Generator().manual_seed(LOADER_SEED))
      for epoch in range(epochs): for xb, yb in loader:
          opt.zero_grad(); loss = F.cross_entropy(model(xb), yb); loss.backward(); opt.step()
  For the head-only cases also the optimizer's state: <case>/optim/<param>.<buffer>.npy
  (optimizer.state_dict()['state'] by parameter name; Adam's step as a 0-d float32).
- randperm/<n>_<seed>.npy (5, n) int32: [list(DataLoader order) for epoch in range(5)].
"""

import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from torch.utils.data import DataLoader, TensorDataset

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_resnet_fixtures import make_backbone, write_manifest  # noqa: E402

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)

N, C, S, BATCH = 21, 3, 64, 8
HEAD_SEED, LOADER_SEED = 1, 7
SGD = {"type": "sgd", "lr": 1e-2, "momentum": 0.9, "weight_decay": 1e-4}
CASES = [
    {"id": "head_sgd", "unfreeze": ["fc"], "mode": "eval", "epochs": 3, "optim": SGD},
    {"id": "head_nesterov", "unfreeze": ["fc"], "mode": "eval", "epochs": 3, "optim": {**SGD, "nesterov": True}},
    {"id": "head_adam", "unfreeze": ["fc"], "mode": "eval", "epochs": 3,
     "optim": {"type": "adam", "lr": 1e-3, "weight_decay": 1e-4}},
    {"id": "layer4_sgd", "unfreeze": ["layer4", "fc"], "mode": "eval", "epochs": 2, "optim": SGD},
    {"id": "layer4_train_bn", "unfreeze": ["layer4", "fc"], "mode": "train", "epochs": 2, "optim": SGD},
]
RANDPERM_N = [1, 2, 3, 7, 16, 100, 1000, 5000]
RANDPERM_SEEDS = [0, 1, 42, 2**32 - 1, 2**40 + 3]


def drawn_images(g):
    """Class 0: a reddish wash; 1: a bright vertical stripe; 2: a dark square. Over noise."""
    x = 0.5 * torch.randn(N, 3, S, S, generator=g)
    y = torch.arange(N) % C
    y = y[torch.randperm(N, generator=g)]
    for i in range(N):
        off = int(torch.randint(0, S // 2, (1,), generator=g))
        if y[i] == 0:
            x[i, 0] += 1.5
        elif y[i] == 1:
            x[i, :, :, off:off + 8] += 2.0
        else:
            x[i, :, off:off + 20, off:off + 20] -= 2.0
    return x.contiguous(), y


def recipe(sd, case):
    m = torchvision.models.resnet18()
    m.load_state_dict(sd)
    for p in m.parameters():
        p.requires_grad_(False)
    torch.manual_seed(HEAD_SEED)
    m.fc = nn.Linear(512, C)
    for name, p in m.named_parameters():
        p.requires_grad_(any(name.startswith(u + ".") for u in case["unfreeze"]))
    m.train(case["mode"] == "train")
    params = [p for p in m.parameters() if p.requires_grad]
    o = case["optim"]
    if o["type"] == "sgd":
        opt = torch.optim.SGD(params, lr=o["lr"], momentum=o["momentum"], weight_decay=o["weight_decay"],
                              nesterov=o.get("nesterov", False))
    else:
        opt = torch.optim.Adam(params, lr=o["lr"], weight_decay=o["weight_decay"])
    return m, opt


def train(sd, case, x, y):
    m, opt = recipe(sd, case)
    loader = DataLoader(TensorDataset(x, y), batch_size=BATCH, shuffle=True,
                        generator=torch.Generator().manual_seed(LOADER_SEED))
    losses = []
    for _ in range(case["epochs"]):
        for xb, yb in loader:
            opt.zero_grad()
            loss = F.cross_entropy(m(xb), yb)
            loss.backward()
            opt.step()
            losses.append(loss.item())
    # The trained tensors (running statistics too, for train mode), but of layer4's big conv
    # weights only the last (each is 9 MB; the others are checked through it and the losses).
    final = {k: v for k, v in m.state_dict().items()
             if any(k.startswith(u + ".") for u in case["unfreeze"]) and not k.endswith("num_batches_tracked")
             and (v.numel() < 300_000 or k == "layer4.1.conv2.weight")}
    # The head's optimizer.state_dict()['state'] by parameter name: momentum_buffer (SGD);
    # exp_avg, exp_avg_sq, step (Adam). Not for layer4 (its buffers are as big as its weights).
    optim = {}
    if case["unfreeze"] == ["fc"]:
        names = [n for n, p in m.named_parameters() if p.requires_grad]
        for i, state in opt.state_dict()["state"].items():
            for buf, t in state.items():
                optim[f"{names[i]}.{buf}"] = t
    return np.array(losses, dtype=np.float32), final, optim


def main(outdir):
    t0 = time.time()
    os.makedirs(outdir, exist_ok=True)
    sd = {k: v.clone() for k, v in make_backbone().state_dict().items()}
    torch.save(sd, os.path.join(outdir, "resnet18.pth"))
    x, y = drawn_images(torch.Generator().manual_seed(5))
    np.save(os.path.join(outdir, "x.npy"), x.numpy())
    np.save(os.path.join(outdir, "y.npy"), y.numpy().astype(np.int64))
    m = torchvision.models.resnet18()
    m.load_state_dict(sd)
    m.eval()
    with torch.no_grad():
        feats = torch.flatten(m.avgpool(nn.Sequential(*list(m.children())[:-2])(x)), 1)
        assert torch.allclose(m.fc(feats), m(x))
    np.save(os.path.join(outdir, "features.npy"), feats.numpy())
    cases = []
    for case in CASES:
        losses, final, optim = train(sd, case, x, y)
        d = os.path.join(outdir, case["id"])
        os.makedirs(os.path.join(d, "final"), exist_ok=True)
        os.makedirs(os.path.join(d, "optim"), exist_ok=True)
        np.save(os.path.join(d, "losses.npy"), losses)
        for k, v in final.items():
            np.save(os.path.join(d, "final", f"{k}.npy"), v.numpy())
        for k, v in optim.items():
            np.save(os.path.join(d, "optim", f"{k}.npy"), v.numpy().astype(np.float32))
        cases.append({**case, "losses": f"{case['id']}/losses.npy", "final": list(final.keys()),
                      "optim_state": list(optim.keys())})
    os.makedirs(os.path.join(outdir, "randperm"), exist_ok=True)
    for n in RANDPERM_N:
        for seed in RANDPERM_SEEDS:
            loader = DataLoader(list(range(n)), batch_size=BATCH, shuffle=True,
                                generator=torch.Generator().manual_seed(seed))
            orders = [[int(i) for b in loader for i in b] for _ in range(5)]
            np.save(os.path.join(outdir, "randperm", f"{n}_{seed}.npy"), np.array(orders, dtype=np.int32))
    manifest = {
        "generator": "tests/resnet/gen_finetune_fixtures.py", "torch": torch.__version__,
        "torchvision": torchvision.__version__, "N": N, "C": C, "size": S, "batch": BATCH,
        "head_seed": HEAD_SEED, "loader_seed": LOADER_SEED, "cases": cases,
        "randperm": {"n": RANDPERM_N, "seeds": RANDPERM_SEEDS, "epochs": 5},
        "seconds": round(time.time() - t0, 1),
    }
    write_manifest(outdir, manifest)


if __name__ == "__main__":
    main(sys.argv[1])
