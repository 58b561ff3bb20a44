#!/usr/bin/python3
"""Export the fixtures' seeded ResNet-18 (tests/resnet/gen_resnet_fixtures.py: make_backbone, the
1000-class model of resnet18.pth) to ONNX for the ONNX Runtime Web side of the benchmark.

    /usr/bin/python3 bench/ort/export_onnx.py OUTDIR        (e.g. build/bench)

Writes (not committed):
  OUTDIR/resnet18.onnx        opset 13, eval mode, input 'input' (N,3,224,224) float32 with a
                              dynamic batch dimension 'N', output 'logits' (N,1000)
  OUTDIR/resnet18.check.json  {"input": "...", "output": "...", "opset": 13, "x": file, "logits": file}
  OUTDIR/check_x.f32          raw little-endian float32 (2,3,224,224): the fixtures' x.npy
  OUTDIR/check_logits.f32     raw float32 (2,1000): PyTorch's eval logits on it, for a
                              bench to check the runtime computes the same network
torch.onnx.export in torch 1.13 needs no `onnx` Python package (it is not installed here).
"""

import json
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "resnet"))
from gen_resnet_fixtures import make_backbone  # noqa: E402

OPSET = 13


def main(outdir):
    os.makedirs(outdir, exist_ok=True)
    torch.set_num_threads(1)
    model = make_backbone().eval()
    x = torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(3))   # = x.npy
    with torch.no_grad():
        logits = model(x)
    path = os.path.join(outdir, "resnet18.onnx")
    torch.onnx.export(model, x, path, opset_version=OPSET, input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}}, do_constant_folding=True)
    x.numpy().astype("<f4").tofile(os.path.join(outdir, "check_x.f32"))
    logits.numpy().astype("<f4").tofile(os.path.join(outdir, "check_logits.f32"))
    meta = {"model": "resnet18.onnx", "input": "input", "output": "logits", "opset": OPSET,
            "torch": torch.__version__, "x": "check_x.f32", "x_shape": [2, 3, 224, 224],
            "logits": "check_logits.f32", "logits_shape": [2, 1000]}
    with open(os.path.join(outdir, "resnet18.check.json"), "w") as f:
        json.dump(meta, f, indent=1)
    print(f"wrote {path} ({os.path.getsize(path) / 1e6:.1f} MB), opset {OPSET}, dynamic batch")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
