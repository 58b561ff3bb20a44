#!/usr/bin/python3
"""Checks files written by Gradbox with real PyTorch (run with /usr/bin/python3).

  check_written.py OURS.pth OURS.safetensors EXPECTED.json

EXPECTED.json: [{"name", "dtype": "float32"|"int64", "shape", "values"}, ...] in order.
The .pth must load with torch.load(weights_only=True) as an OrderedDict with exactly
those keys, dtypes, shapes and values. The .safetensors header is parsed by hand (the
format's rules: 8-byte length, JSON padded with spaces, offsets tiling the data) and,
if the safetensors package is importable, loaded with safetensors.torch.load_file too.
Exit 0: all good; 1: a mismatch (printed); 77: torch is not importable (skip).
"""
import collections
import json
import struct
import sys

try:
    import torch
except ImportError:
    print("check_written.py: torch not importable; skipping", file=sys.stderr)
    sys.exit(77)

DTYPES = {"float32": torch.float32, "int64": torch.int64}
errors = []


def compare(label, got, expected):
    if list(got.keys()) != [e["name"] for e in expected]:
        errors.append(f"{label}: keys {list(got.keys())} != {[e['name'] for e in expected]}")
        return
    for e in expected:
        t = got[e["name"]]
        want = torch.tensor(e["values"], dtype=torch.float64).to(DTYPES[e["dtype"]]).reshape(e["shape"])
        if t.dtype != want.dtype or list(t.shape) != e["shape"] or not torch.equal(t, want):
            errors.append(f"{label}: {e['name']}: got {t.dtype} {list(t.shape)} {t.flatten()[:8].tolist()}, "
                          f"want {want.dtype} {e['shape']} {want.flatten()[:8].tolist()}")


def check_pth(path, expected):
    sd = torch.load(path, weights_only=True)
    if type(sd) is not collections.OrderedDict:
        errors.append(f"{path}: loaded a {type(sd)}, not an OrderedDict")
    compare(path, sd, expected)
    model_like = torch.nn.Module()
    for e in expected:   # load_state_dict(strict=True) into buffers of the same shapes
        model_like.register_buffer(e["name"].replace(".", "_"), torch.zeros(e["shape"], dtype=DTYPES[e["dtype"]]))
    renamed = collections.OrderedDict((k.replace(".", "_"), v) for k, v in sd.items())
    model_like.load_state_dict(renamed, strict=True)


def check_safetensors(path, expected):
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    text = raw[8:8 + n]
    if n % 8 or text.rstrip(b" ") != text.rstrip(b" ").strip() or not text.startswith(b"{"):
        errors.append(f"{path}: header of {n} bytes is not JSON padded with spaces to 8")
    header = json.loads(text)
    data = raw[8 + n:]
    codes = {"F32": (torch.float32, 4), "I64": (torch.int64, 8)}
    got, spans = collections.OrderedDict(), []
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype, size = codes[info["dtype"]]
        b, e = info["data_offsets"]
        spans.append((b, e))
        numel = 1
        for s in info["shape"]:
            numel *= s
        if e - b != numel * size or b % size:
            errors.append(f"{path}: {name}: offsets [{b}, {e}] wrong for {info['shape']} {info['dtype']}")
            continue
        got[name] = torch.frombuffer(bytearray(data[b:e]) or bytearray(size), dtype=dtype)[:numel].reshape(info["shape"])
    spans.sort()
    at = 0
    for b, e in spans:
        if b != at:
            errors.append(f"{path}: gap or overlap at {at}")
        at = e
    if at != len(data):
        errors.append(f"{path}: data area is {len(data)} bytes, tensors cover {at}")
    compare(path + " (by hand)", got, expected)
    try:
        from safetensors.torch import load_file
    except ImportError:
        return
    loaded = load_file(path)   # a plain dict: compare in our order
    compare(path + " (safetensors)", collections.OrderedDict((e["name"], loaded.get(e["name"])) for e in expected
                                                             if e["name"] in loaded), expected)


def main():
    pth, st, expected_path = sys.argv[1:4]
    expected = json.load(open(expected_path))
    check_pth(pth, expected)
    check_safetensors(st, expected)
    for e in errors:
        print("check_written.py:", e, file=sys.stderr)
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
