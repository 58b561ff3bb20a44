#!/usr/bin/python3
"""Generate the fine-tuning tests' data (tests/resnet/finetune-*.test.mjs). Runs at test time;
the outputs are NOT committed.

    /usr/bin/python3 tests/resnet/gen_finetune_data.py OUTDIR       (build/finetune-data)

Needs PyTorch 1.13, torchvision 0.14 and Pillow (only /usr/bin/python3 has them here).
Deterministic (fixed seeds, PNGs without timestamps). ~5 s, ~50 MB.

  resnet18.pth        gen_resnet_fixtures.py's seeded random backbone (BatchNorm made non-trivial)
  data/<class>/*.png  3 classes x 8 images a random backbone tells apart: a colour and a shape
                      each, with noise, sizes from 40x30 to 300x200 (non-square, both ways)
  broken/             data/ plus files that must be listed and skipped: zero bytes, not an image,
                      a truncated PNG, a 50,000 x 50,000 PNG header, a text file
  pre/*.png           pictures for the preprocessing test (RGB, RGBA, grey, palette), with
                      Image.open(f).convert('RGB') as .rgb.npy and torchvision's tensors:
                      .center.npy  Resize(256), CenterCrop(224), ToTensor, Normalize
                      .whole.npy   Resize((224, 224)), ToTensor, Normalize
                      .box.npy     F.resized_crop(img, top, left, h, w, (224, 224)) then the same
                                   (the box is in the manifest), and flipped: .boxflip.npy
"""

import os
import struct
import sys
import zlib

import numpy as np
import torch
import torchvision.transforms as T
import torchvision.transforms.functional as F
from PIL import Image, ImageDraw

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_resnet_fixtures import make_backbone, write_manifest  # noqa: E402

MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
CLASSES = [("a_red disc", (220, 40, 40), "disc"), ("b_green bar", (40, 200, 60), "bar"),
           ("c_blue frame", (40, 70, 220), "frame")]
SIZES = [(64, 64), (80, 50), (50, 80), (120, 90), (40, 30), (300, 200), (96, 128), (72, 72)]


def shape_image(w, h, colour, shape, rng):
    """A noisy background and a coloured shape: what a random backbone can separate."""
    bg = rng.integers(90, 160, (h, w, 3), dtype=np.uint8)
    img = Image.fromarray(bg, "RGB")
    d = ImageDraw.Draw(img)
    jitter = lambda v: tuple(int(np.clip(c + rng.integers(-25, 26), 0, 255)) for c in v)  # noqa: E731
    m = min(w, h)
    cx, cy = w / 2 + rng.integers(-m // 8, m // 8 + 1), h / 2 + rng.integers(-m // 8, m // 8 + 1)
    r = m * 0.35
    if shape == "disc":
        d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=jitter(colour))
    elif shape == "bar":
        d.rectangle([0, cy - r / 2, w, cy + r / 2], fill=jitter(colour))
    else:
        d.rectangle([cx - r, cy - r, cx + r, cy + r], outline=jitter(colour), width=max(2, int(m * 0.12)))
    return img


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def huge_png_header(w, h):
    """A valid PNG signature and IHDR claiming w x h, then a tiny IDAT: must be refused before decoding."""
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(b"\0" * 16))
            + png_chunk(b"IEND", b""))


def write_dataset(root, manifest):
    rng = np.random.default_rng(7)
    entries = []
    for label, colour, shape in CLASSES:
        os.makedirs(os.path.join(root, "data", label), exist_ok=True)
        for i, (w, h) in enumerate(SIZES):
            name = f"img_{i}.png"
            shape_image(w, h, colour, shape, rng).save(os.path.join(root, "data", label, name), optimize=False)
            entries.append(f"data/{label}/{name}")
    manifest["data"] = {"folder": "data", "classes": [c[0] for c in CLASSES], "files": entries}


def write_broken(root, manifest):
    """broken/: a copy of data/ and the bad files, each with the reason the CLI must give."""
    import shutil
    shutil.copytree(os.path.join(root, "data"), os.path.join(root, "broken"))
    good = open(os.path.join(root, "data", CLASSES[0][0], "img_0.png"), "rb").read()
    bad = {
        f"{CLASSES[0][0]}/empty.png": (b"", "empty"),
        f"{CLASSES[0][0]}/text.jpg": (b"this is not a picture\n", "not an image"),
        f"{CLASSES[1][0]}/truncated.png": (good[: len(good) // 2], "corrupt or truncated"),
        f"{CLASSES[2][0]}/huge.png": (huge_png_header(50000, 50000), "over the"),
        f"{CLASSES[2][0]}/notes.txt": (b"notes\n", "not an image file ImageFolder reads"),
    }
    for rel, (data, _) in bad.items():
        with open(os.path.join(root, "broken", rel), "wb") as f:
            f.write(data)
    manifest["broken"] = {"folder": "broken", "bad": {k: v[1] for k, v in bad.items()}}


PRE = [("rgb_300x200", "RGB", (300, 200)), ("rgba_150x260", "RGBA", (150, 260)),
       ("grey_97x61", "L", (97, 61)), ("palette_224x224", "P", (224, 224)), ("rgb_1001x333", "RGB", (1001, 333))]
BOXES = {"rgb_300x200": (17, 40, 150, 121), "rgba_150x260": (60, 3, 200, 140), "grey_97x61": (0, 0, 61, 97),
         "palette_224x224": (10, 20, 100, 100), "rgb_1001x333": (100, 500, 224, 224)}   # (top, left, h, w)


def write_pre(root, manifest):
    os.makedirs(os.path.join(root, "pre"), exist_ok=True)
    rng = np.random.default_rng(11)
    norm = T.Compose([T.ToTensor(), T.Normalize(MEAN, STD)])
    center = T.Compose([T.Resize(256), T.CenterCrop(224), norm])
    whole = T.Compose([T.Resize((224, 224)), norm])
    out = []
    for name, mode, (w, h) in PRE:
        y, x = np.mgrid[0:h, 0:w]
        base = np.stack([255 * x / w, 255 * y / h, 127 + 120 * np.sin(x / 7.0 + y / 11.0)], -1)
        arr = np.clip(base + rng.normal(0, 20, base.shape), 0, 255).astype(np.uint8)
        img = Image.fromarray(arr, "RGB")
        if mode == "RGBA":
            img = img.convert("RGBA")
            img.putalpha(Image.fromarray(rng.integers(0, 256, (h, w), dtype=np.uint8), "L"))
        elif mode in ("L", "P"):
            img = img.convert(mode)
        path = os.path.join(root, "pre", f"{name}.png")
        img.save(path, optimize=False)
        rgb = Image.open(path).convert("RGB")
        top, left, bh, bw = BOXES[name]
        boxed = norm(F.resized_crop(rgb, top, left, bh, bw, [224, 224]))
        files = {"rgb": np.asarray(rgb), "center": center(rgb).numpy(), "whole": whole(rgb).numpy(),
                 "box": boxed.numpy(), "boxflip": torch.flip(boxed, [2]).numpy()}
        for k, v in files.items():
            np.save(os.path.join(root, "pre", f"{name}.{k}.npy"), v)
        out.append({"name": name, "mode": mode, "width": w, "height": h, "png": f"pre/{name}.png",
                    "box": {"top": top, "left": left, "height": bh, "width": bw}})
    manifest["pre"] = out


def main(root):
    os.makedirs(root, exist_ok=True)
    torch.save(make_backbone().state_dict(), os.path.join(root, "resnet18.pth"))
    manifest = {"weights": "resnet18.pth", "torch": torch.__version__}
    write_dataset(root, manifest)
    write_broken(root, manifest)
    write_pre(root, manifest)
    write_manifest(root, manifest)


if __name__ == "__main__":
    main(sys.argv[1])
