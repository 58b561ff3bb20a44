#!/usr/bin/python3
"""Check a ResNet-18 weight file written by Gradbox with the real PyTorch.

    /usr/bin/python3 tests/resnet/check_written.py FILE [--fixtures DIR] [--ref REF]
                     [--x X.npy --expect LOGITS.npy] [--rtol R] [--atol A] [--json]

FILE is a .pth (read with torch.load(FILE, weights_only=True), the safe loader a user would use)
or a .safetensors (parsed here, strictly: the module is not installed). The state_dict is loaded
into torchvision.models.resnet18(num_classes=fc.weight.shape[0]) with strict=True, then:
  --ref REF       every tensor must equal REF's (.pth or .safetensors) bit for bit, same dtype
                  and shape (a writer must round-trip exactly); key order is reported, not required
  --x, --expect   eval-mode logits of the model on X must match EXPECT:
                  max|got-expected| <= atol + rtol * max|expected|   (defaults 1e-4, 1e-4)
  --fixtures DIR  shorthand for the files of gen_resnet_fixtures.py: --x DIR/x.npy, and for a
                  1000-class file --expect DIR/eval_logits.npy --ref DIR/resnet18.pth
                  (with 102 keys, --ref is skipped; with 10 classes, give --expect yourself)
Prints one JSON object (--json) or a short report; exits 0 if every check passed, 1 if one
failed, 2 if the file could not be read or loaded.
"""

import argparse
import json
import os
import struct
import sys
import zipfile

import numpy as np
import torch
import torchvision

torch.set_num_threads(1)

ST_DTYPES = {"F32": (np.float32, torch.float32), "I64": (np.int64, torch.int64),
             "F16": (np.float16, torch.float16), "F64": (np.float64, torch.float64),
             "I32": (np.int32, torch.int32)}


class BadFile(Exception):
    pass


def read_safetensors(path):
    """Parse and validate: u64 LE header size, JSON header, data_offsets contiguous from 0 to the
    end of the file, each tensor's byte size = numel * itemsize."""
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 8:
        raise BadFile("shorter than the 8-byte header length")
    (n,) = struct.unpack("<Q", blob[:8])
    if 8 + n > len(blob):
        raise BadFile(f"header length {n} runs past the end of the file ({len(blob)} bytes)")
    try:
        header = json.loads(blob[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise BadFile(f"header is not UTF-8 JSON: {e}")
    header.pop("__metadata__", None)
    data = memoryview(blob)[8 + n:]
    spans, sd = [], {}
    for k, v in header.items():
        if set(v) != {"dtype", "shape", "data_offsets"}:
            raise BadFile(f"{k}: header entry must have exactly dtype, shape, data_offsets, got {sorted(v)}")
        if v["dtype"] not in ST_DTYPES:
            raise BadFile(f"{k}: unknown dtype {v['dtype']}")
        npd, _ = ST_DTYPES[v["dtype"]]
        b, e = v["data_offsets"]
        numel = int(np.prod(v["shape"], dtype=np.int64))
        if not 0 <= b <= e <= len(data):
            raise BadFile(f"{k}: data_offsets [{b}, {e}) outside the {len(data)}-byte data section")
        if e - b != numel * np.dtype(npd).itemsize:
            raise BadFile(f"{k}: {e - b} bytes for shape {v['shape']} {v['dtype']}")
        spans.append((b, e, k))
        sd[k] = torch.from_numpy(np.frombuffer(data[b:e], dtype=npd).reshape(v["shape"]).copy())
    pos = 0
    for b, e, k in sorted(spans):
        if b != pos:
            raise BadFile(f"{k}: data_offsets start at {b}, expected {pos} (hole or overlap)")
        pos = e
    if pos != len(data):
        raise BadFile(f"data is {len(data)} bytes but the tensors cover {pos}")
    return sd, {"format": "safetensors", "header_bytes": n, "keys_in_header_order": list(header)}


def read_pth(path):
    info = {"format": "pth"}
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
            info["zip_prefix"] = names[0].split("/")[0] if names else None
            info["zip_records"] = len(names)
    else:
        info["format"] = "pth-legacy"
    try:
        sd = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 -- report whatever torch says
        raise BadFile(f"torch.load(weights_only=True) failed: {type(e).__name__}: {e}")
    if not isinstance(sd, dict):
        raise BadFile(f"torch.load gave a {type(sd).__name__}, not a state_dict")
    info["keys_in_file_order"] = list(sd)
    return sd, info


def read_any(path):
    return read_safetensors(path) if path.endswith(".safetensors") else read_pth(path)


def close(got, exp, rtol, atol):
    err = float(np.max(np.abs(got - exp))) if exp.size else 0.0
    scale = float(np.max(np.abs(exp))) if exp.size else 0.0
    return err <= atol + rtol * scale, err, scale


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("file")
    ap.add_argument("--fixtures")
    ap.add_argument("--ref")
    ap.add_argument("--x")
    ap.add_argument("--expect")
    ap.add_argument("--rtol", type=float, default=1e-4)
    ap.add_argument("--atol", type=float, default=1e-4)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()

    report = {"file": a.file, "checks": [], "ok": True}

    def check(name, ok, **detail):
        report["checks"].append({"name": name, "ok": bool(ok), **detail})
        report["ok"] &= bool(ok)

    def finish(code):
        if a.json:
            print(json.dumps(report))
        else:
            for c in report["checks"]:
                extra = {k: v for k, v in c.items() if k not in ("name", "ok")}
                print(f"{'ok  ' if c['ok'] else 'FAIL'} {c['name']} {json.dumps(extra) if extra else ''}")
            print("PASS" if report["ok"] and code == 0 else "FAIL", a.file)
        sys.exit(code)

    try:
        sd, info = read_any(a.file)
    except (BadFile, OSError) as e:
        report.update(ok=False, error=str(e))
        check("read", False, error=str(e))
        finish(2)
    report.update({k: v for k, v in info.items() if not k.startswith("keys_")}, keys=len(sd))

    dtypes = {k: str(v.dtype).replace("torch.", "") for k, v in sd.items()}
    bad = {k: d for k, d in dtypes.items()
           if d != ("int64" if k.endswith("num_batches_tracked") else "float32")}
    check("dtypes (float32; num_batches_tracked int64)", not bad, wrong=bad)

    num_classes = int(sd["fc.weight"].shape[0]) if "fc.weight" in sd else 1000
    report["num_classes"] = num_classes
    model = torchvision.models.resnet18(num_classes=num_classes)
    try:
        model.load_state_dict(sd, strict=True)
        check("load_state_dict(strict=True) into resnet18", True)
    except RuntimeError as e:
        check("load_state_dict(strict=True) into resnet18", False, error=str(e)[:2000])
        finish(2)

    if a.fixtures:
        a.x = a.x or os.path.join(a.fixtures, "x.npy")
        if num_classes == 1000:
            a.expect = a.expect or os.path.join(a.fixtures, "eval_logits.npy")
            if len(sd) == 122:
                a.ref = a.ref or os.path.join(a.fixtures, "resnet18.pth")

    if a.ref:
        ref, rinfo = read_any(a.ref)
        missing, extra = sorted(set(ref) - set(sd)), sorted(set(sd) - set(ref))
        check("same keys as ref", not missing and not extra, missing=missing, extra=extra)
        diff = [k for k in ref if k in sd and not (sd[k].dtype == ref[k].dtype and sd[k].shape == ref[k].shape
                                                    and torch.equal(sd[k], ref[k]))]
        check("tensors bit-identical to ref", not diff, differing=diff[:20], n_differing=len(diff))
        order = info.get("keys_in_file_order") or info.get("keys_in_header_order")
        rorder = rinfo.get("keys_in_file_order") or rinfo.get("keys_in_header_order")
        report["same_key_order_as_ref"] = order == rorder

    if a.x:
        if not a.expect:
            check("--x needs --expect", False)
            finish(1)
        x = torch.from_numpy(np.load(a.x))
        exp = np.load(a.expect)
        model.eval()
        with torch.no_grad():
            got = model(x).numpy()
        if got.shape != exp.shape:
            check("eval logits shape", False, got=list(got.shape), expected=list(exp.shape))
        else:
            ok, err, scale = close(got, exp, a.rtol, a.atol)
            check("eval logits", ok, max_abs_err=err, max_abs_expected=scale, rtol=a.rtol, atol=a.atol)
    finish(0 if report["ok"] else 1)


if __name__ == "__main__":
    main()
