#!/usr/bin/env python3
"""Writes resnet18_dir.json: what `dir(model)` prints in the tutorial's cell, for torchvision's
resnet18 after the cells before it (build, freeze every parameter). Run with Debian's
python3-torch / python3-torchvision:

    /usr/bin/python3 assets/gen_resnet18_dir.py           # (re)write the file
    /usr/bin/python3 assets/gen_resnet18_dir.py --check   # exit 1 if the file differs

NOTE: dir() lists the attributes of the Module class and instance plus the names of the
children, parameters and buffers, so it depends on the torch version (the notebook's own
output came from a torch 2.x: `_compiled_call_impl`, `_forward_hooks_always_called`...).
Replacing model.fc does not change it (checked here). Debian's torch reports
torch.__version__ "1.13.0a0"; the release it packages, 1.13.1, is what "torch" records.
"""
import json
import pathlib
import subprocess
import sys

import torch
import torchvision
from torch import nn

OUT = pathlib.Path(__file__).with_name("resnet18_dir.json")


def debian_version(package, fallback):
    """The upstream release of an installed Debian package: 1.13.1 for '1.13.1+dfsg-4'."""
    r = subprocess.run(["dpkg-query", "-W", "-f=${Version}", package], capture_output=True, text=True)
    return r.stdout.split("+")[0].split("-")[0] if r.returncode == 0 and r.stdout else fallback


def main() -> int:
    model = torchvision.models.resnet18(weights=None)
    for param in model.parameters():
        param.requires_grad = False
    names = dir(model)
    model.fc = nn.Linear(512, 10)
    assert dir(model) == names, "dir(model) changed when fc was replaced"
    data = {
        "torch": debian_version("python3-torch", torch.__version__),
        "torchvision": debian_version("python3-torchvision", torchvision.__version__),
        "torch.__version__": torch.__version__,
        "code": "model = resnet18(...); for param in model.parameters(): param.requires_grad = False; dir(model)",
        "dir": names,
        "children": [n for n, _ in model.named_children()],   # in dir() because Module.__dir__ adds them
    }
    text = json.dumps(data, indent=0) + "\n"
    if "--check" in sys.argv[1:]:
        ok = OUT.read_text(encoding="utf-8") == text
        print("resnet18_dir.json matches torch" if ok else "resnet18_dir.json differs from torch")
        return 0 if ok else 1
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT} ({len(names)} names)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
