#!/usr/bin/python3
"""Generates the weights-I/O fixtures in tests/fixtures/io/ with real PyTorch.

Run with Debian's python3-torch (1.13):  /usr/bin/python3 tests/io/gen_io_fixtures.py
Deterministic: fixed seeds, and torch.save writes zero timestamps.

  mixed.pth              float32/float16/bfloat16/int64 tensors, a 0-d tensor, a view
                         with a storage offset and a transposed (non-contiguous) view
  tiny-resnet-f37072fd.pth  a small conv/bn/linear model's state_dict; torch names the
                         zip's folder after the file, so the prefix is not "archive/"
  wrapped.pth            {"epoch": 3, "state_dict": ...} as training scripts save it
  mixed.safetensors      written by hand (the safetensors package is not installed):
                         __metadata__, F32/F16/BF16/I64, a name with a JSON escape
  forbidden.pth          an object whose pickle calls os.system: must be refused
  deflated.pth           mixed.pth re-zipped with deflate: must be refused clearly
  rezipped.pth           tiny-resnet re-zipped (stored) by Python's zipfile into the folder
                         "my model": no 64-byte alignment, sizes in the local headers
  expected.json          every tensor of the files above as float32 values
  compare.json           load_state_dict(strict=True) messages from torch for gb_sd_compare
"""
import collections
import io
import json
import os
import struct
import sys
import zipfile

import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "io")


def values(t):
    return [float(x) for x in t.detach().reshape(-1).to(torch.float64).tolist()]


def describe(sd):
    return [{"name": k, "dtype": str(v.dtype).replace("torch.", ""), "shape": list(v.shape),
             "values": values(v)} for k, v in sd.items()]


def mixed_state_dict():
    g = torch.Generator().manual_seed(1)
    base = torch.randn(4, 3, generator=g)
    sd = collections.OrderedDict()
    sd["w32"] = torch.randn(2, 3, generator=g)
    sd["w16"] = torch.tensor([1.0, -2.5, 65504.0, 6.1e-5, 3e-7, 0.0], dtype=torch.float16)
    sd["wbf"] = torch.randn(2, 2, generator=g).to(torch.bfloat16)
    sd["bn.num_batches_tracked"] = torch.tensor(12345, dtype=torch.int64)
    sd["view.tail"] = base[1:]            # storage offset 3, shares base's storage
    sd["view.t"] = base.t()               # stride (1, 3): not contiguous
    sd["base"] = base
    sd["empty"] = torch.zeros(0, 5)
    return sd


class Tiny(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(3, 4, 3, bias=False)
        self.bn1 = torch.nn.BatchNorm2d(4)
        self.fc = torch.nn.Linear(4, 5)


def tiny_state_dict():
    torch.manual_seed(0)
    m = Tiny()
    m.bn1.running_mean.uniform_(-1, 1)
    m.bn1.num_batches_tracked.fill_(7)
    return m, m.state_dict()


def write_safetensors(path, tensors):
    """tensors: list of (name, dtype code, torch tensor). Header order = list order."""
    header, blobs, at = {"__metadata__": {"format": "pt", "note": "quote \" and \\ and \u00e9"}}, [], 0
    for name, code, t in tensors:
        raw = t.contiguous().reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b""
        header[name] = {"dtype": code, "shape": list(t.shape), "data_offsets": [at, at + len(raw)]}
        blobs.append(raw)
        at += len(raw)
    text = json.dumps(header, ensure_ascii=True).encode()   # \u escapes for non-ASCII names
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def forbidden():
    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))
    buf = io.BytesIO()
    torch.save({"fc.weight": Evil()}, buf)
    return buf.getvalue()


def rezip(src, dst, method, folder=None):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", method) as zout:
        for info in zin.infolist():
            name = info.filename if folder is None else folder + info.filename[info.filename.index("/"):]
            zi = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            zi.compress_type = method
            zout.writestr(zi, zin.read(info.filename))


def compare_cases():
    """What torch says for a few ways a state dict can fail to fit Tiny."""
    model, good = tiny_state_dict()
    cases = []

    def case(label, sd):
        try:
            model.load_state_dict(sd, strict=True)
            msg = ""
        except RuntimeError as e:
            msg = str(e)
        cases.append({"label": label, "have": [{"name": k, "shape": list(v.shape)} for k, v in sd.items()],
                      "message": msg})

    case("ok", good)
    sd = collections.OrderedDict(good); del sd["fc.weight"]; del sd["bn1.bias"]
    case("missing", sd)
    sd = collections.OrderedDict(good); sd["foo"] = torch.zeros(1); sd["fc.extra"] = torch.zeros(1)
    sd["bn1"] = torch.zeros(1); sd["conv1.weight.x"] = torch.zeros(2)
    case("unexpected", sd)
    sd = collections.OrderedDict(good); sd["fc.zzz"] = torch.zeros(1); sd["conv1.q"] = torch.zeros(1)
    sd["foo"] = torch.zeros(1)   # the root notices foo before fc and conv1 notice theirs
    case("unexpected-order", sd)
    sd = collections.OrderedDict(good); sd["fc.weight"] = torch.zeros(10, 4); sd["fc.bias"] = torch.zeros(10)
    case("size", sd)
    sd = collections.OrderedDict(good); sd["bn1.num_batches_tracked"] = torch.zeros(1, dtype=torch.long)
    case("scalar-from-1d", sd)
    sd = collections.OrderedDict((k, v) for k, v in good.items() if not k.startswith("bn1"))
    sd["fc.weight"] = torch.zeros(5); sd["zzz.w"] = torch.zeros(3); sd["aaa"] = torch.zeros(3)
    case("all", sd)
    expected = [{"name": k, "shape": list(v.shape)} for k, v in good.items()]
    return {"model": type(model).__name__, "expected": expected, "cases": cases}


def main():
    os.makedirs(OUT, exist_ok=True)
    expected = {}

    sd = mixed_state_dict()
    torch.save(sd, os.path.join(OUT, "mixed.pth"))
    expected["mixed.pth"] = describe(sd)

    _, tiny = tiny_state_dict()
    torch.save(tiny, os.path.join(OUT, "tiny-resnet-f37072fd.pth"))
    expected["tiny-resnet-f37072fd.pth"] = describe(tiny)

    torch.save({"epoch": 3, "best_acc": 0.5, "state_dict": tiny}, os.path.join(OUT, "wrapped.pth"))
    expected["wrapped.pth"] = describe(tiny)

    st = [("w32", "F32", sd["w32"]), ("w16", "F16", sd["w16"]), ("wbf", "BF16", sd["wbf"]),
          ("bn.num_batches_tracked", "I64", sd["bn.num_batches_tracked"]),
          ("caf\u00e9.weight", "F32", torch.arange(6, dtype=torch.float32).reshape(3, 2)),
          ("empty", "F32", torch.zeros(0, 5))]
    write_safetensors(os.path.join(OUT, "mixed.safetensors"), st)
    expected["mixed.safetensors"] = describe(collections.OrderedDict((n, t) for n, _, t in st))

    with open(os.path.join(OUT, "forbidden.pth"), "wb") as f:
        f.write(forbidden())
    rezip(os.path.join(OUT, "mixed.pth"), os.path.join(OUT, "deflated.pth"), zipfile.ZIP_DEFLATED)
    rezip(os.path.join(OUT, "tiny-resnet-f37072fd.pth"), os.path.join(OUT, "rezipped.pth"), zipfile.ZIP_STORED,
          "my model")
    expected["rezipped.pth"] = describe(tiny)

    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
    with open(os.path.join(OUT, "compare.json"), "w") as f:
        json.dump(compare_cases(), f, indent=1)
    print("wrote", sorted(os.listdir(OUT)), file=sys.stderr)


if __name__ == "__main__":
    main()
