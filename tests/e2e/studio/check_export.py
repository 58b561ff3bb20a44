#!/usr/bin/python3
"""Load what the studio exported into the real PyTorch and compare its logits with the page's.

    /usr/bin/python3 tests/e2e/studio/check_export.py --backbone W.safetensors --image IMG.png
        --logits '[...]' [--head HEAD.safetensors|.pth] [--model MODEL.safetensors|.pth]
        [--keep-whole] [--atol A]

--head: fc.weight and fc.bias only. The backbone W (the weights the page loaded) goes into
  torchvision.models.resnet18(); model.fc = nn.Linear(512, N) then
  model.fc.load_state_dict({weight, bias}, strict=True), and the file must hold exactly those keys.
--model: the whole state_dict, loaded into resnet18(num_classes=N) with strict=True.
Each model runs in eval mode on IMG with torchvision's Resize(256), CenterCrop(224) (or
Resize((224, 224)) with --keep-whole), ToTensor, Normalize(ImageNet), and its logits are compared
with the page's: max |torch - page| <= atol (default 1e-4). Prints one JSON object; exits 0 when
every check passed, 1 otherwise, 2 when a file did not load.
"""
import argparse
import json
import pathlib
import sys

import torch
import torchvision
from PIL import Image
from torch import nn
from torchvision import transforms

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "resnet"))
from check_written import read_any  # noqa: E402  strict safetensors / weights_only pth reader

torch.set_num_threads(1)


def preprocess(path, keep_whole):
    resize = [transforms.Resize((224, 224))] if keep_whole else [transforms.Resize(256), transforms.CenterCrop(224)]
    t = transforms.Compose(resize + [transforms.ToTensor(),
                                     transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
    return t(Image.open(path).convert("RGB")).unsqueeze(0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--backbone", required=True)
    ap.add_argument("--image", required=True)
    ap.add_argument("--logits", required=True)
    ap.add_argument("--head")
    ap.add_argument("--model")
    ap.add_argument("--keep-whole", action="store_true")
    ap.add_argument("--atol", type=float, default=1e-4)
    a = ap.parse_args()
    page = torch.tensor(json.loads(a.logits), dtype=torch.float32)
    n = page.numel()
    x = preprocess(a.image, a.keep_whole)
    out = {"checks": []}
    try:
        if a.head:
            head, _ = read_any(a.head)
            if sorted(head) != ["fc.bias", "fc.weight"]:
                raise ValueError(f"the head file holds {sorted(head)}, not exactly fc.weight and fc.bias")
            m = torchvision.models.resnet18()
            m.load_state_dict(read_any(a.backbone)[0], strict=True)
            m.fc = nn.Linear(512, n)
            m.fc.load_state_dict({"weight": head["fc.weight"], "bias": head["fc.bias"]}, strict=True)
            out["checks"].append(("head", m))
        if a.model:
            m = torchvision.models.resnet18(num_classes=n)
            m.load_state_dict(read_any(a.model)[0], strict=True)
            out["checks"].append(("model", m))
    except Exception as e:  # noqa: BLE001  reported as a failed load
        print(json.dumps({"ok": False, "error": f"{type(e).__name__}: {e}"}))
        return 2
    report, ok = [], True
    with torch.no_grad():
        for name, m in out["checks"]:
            got = m.eval()(x)[0]
            diff = float((got - page).abs().max())
            good = diff <= a.atol
            ok &= good
            report.append({"what": name, "max_abs_diff": diff, "ok": good, "torch": got.tolist()})
    print(json.dumps({"ok": ok, "checks": report}))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
