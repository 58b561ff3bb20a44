#!/usr/bin/python3
"""What the fine-tuning tests ask of the real PyTorch about files Gradbox wrote
(tests/resnet/finetune-cli.test.mjs). Prints one JSON object.

    finetune_check.py diff A B              max |a - b| per key present in both (.pth / .safetensors)
    finetune_check.py head FILE N X.npy     a module whose one child is fc = nn.Linear(512, N):
                                            load_state_dict(strict=True) of fc.weight, fc.bias; fc(X)
    finetune_check.py model FILE N X.npy    resnet18 with fc = Linear(512, N), load_state_dict(strict=True),
                                            eval(); logits of X (N, 3, 224, 224)
"""
import json
import struct
import sys

import numpy as np
import torch
import torch.nn as nn
import torchvision


def load(path):
    if not path.endswith(".safetensors"):
        return torch.load(path, map_location="cpu")
    data = open(path, "rb").read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    dtypes = {"F32": torch.float32, "I64": torch.int64}
    out = {}
    for k, t in header.items():
        if k == "__metadata__":
            continue
        a, b = t["data_offsets"]
        out[k] = torch.frombuffer(bytearray(data[8 + n + a:8 + n + b]), dtype=dtypes[t["dtype"]]).reshape(t["shape"])
    return out


def main(cmd, *args):
    if cmd == "diff":
        a, b = load(args[0]), load(args[1])
        common = sorted(set(a) & set(b))
        out = {"keys": len(common), "only_a": sorted(set(a) - set(b)), "only_b": sorted(set(b) - set(a)),
               "max": {k: float((a[k].double() - b[k].double()).abs().max()) for k in common if a[k].is_floating_point()}}
    else:
        n, x = int(args[1]), torch.from_numpy(np.load(args[2]))
        if cmd == "head":
            m = nn.Module()
            m.fc = nn.Linear(512, n)
            m.forward = lambda x: m.fc(x)
        else:
            m = torchvision.models.resnet18()
            m.fc = nn.Linear(512, n)
        m.load_state_dict(load(args[0]), strict=True)
        m.eval()
        with torch.no_grad():
            out = {"logits": m(x).flatten().tolist()}
    print(json.dumps(out))


if __name__ == "__main__":
    main(*sys.argv[1:])
