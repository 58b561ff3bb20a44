#!/usr/bin/env python3
"""Writes the sample photos in assets/samples/ and their list, samples.json, from the photos
Debian ships in python3-skimage (skimage/data) and opencv-doc (examples/data). The packages
need not be installed: `apt-get download` them and `dpkg-deb -x` each into a folder.

    /usr/bin/python3 assets/gen_samples.py [--skimage DIR] [--opencv DIR]
      --skimage  skimage's data folder  (default /usr/lib/python3/dist-packages/skimage/data)
      --opencv   opencv-doc's data folder (default /usr/share/doc/opencv-doc/examples/data)

Rules: every file is re-encoded by PIL, so none carries an ICC profile or EXIF (a browser would
colour-manage or rotate it and PyTorch's PIL would not); JPEG quality 90, at most 640 px on the
long side, under 120 KB. cat.png is the one PNG: lossless, so a browser decodes exactly the
pixels PIL does (JPEG decoders may differ by a level or two); 300x200, so Resize(256) enlarges it.
"""
import argparse
import json
import pathlib

from PIL import Image

OUT = pathlib.Path(__file__).with_name("samples")
SKIMAGE = "python3-skimage 0.19.3-8 (Debian bookworm), skimage/data/"
OPENCV = "opencv-doc 4.6.0+dfsg-12 (Debian bookworm), examples/data/"

# file, title, source package, source file, (width, height) or None to keep, licence
SAMPLES = [
    ("cat.jpg", "Chelsea the cat", "skimage", "chelsea.png", None,
     "CC0 (photographer Stefan van der Walt; skimage.data.chelsea docstring: no copyright restrictions)"),
    ("cat.png", "Chelsea the cat (PNG, 300x200)", "skimage", "chelsea.png", (300, 200),
     "CC0 (photographer Stefan van der Walt; skimage.data.chelsea docstring: no copyright restrictions)"),
    ("coffee.jpg", "Coffee cup", "skimage", "coffee.png", None,
     "CC0 (photographer Rachel Michetti, courtesy of Pikolo Espresso Bar; skimage.data.coffee docstring)"),
    ("rocket.jpg", "Falcon 9 launch (DSCOVR)", "skimage", "rocket.jpg", None,
     "Public domain (SpaceX photo released into the public domain; skimage.data.rocket docstring)"),
    ("squirrel.jpg", "Squirrel", "opencv", "squirrel_cls.jpg", None,
     "Apache-2.0 AND BSD-3-Clause as Debian's opencv-doc copyright file declares for all of OpenCV "
     "(Files: *); the photo is said to come from the ImageNet test set, whose original rights holder "
     "is not recorded"),
]
MAX_BYTES = 120_000


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--skimage", default="/usr/lib/python3/dist-packages/skimage/data")
    ap.add_argument("--opencv", default="/usr/share/doc/opencv-doc/examples/data")
    args = ap.parse_args()
    roots = {"skimage": (pathlib.Path(args.skimage), SKIMAGE), "opencv": (pathlib.Path(args.opencv), OPENCV)}
    OUT.mkdir(exist_ok=True)
    listing = []
    for name, title, pkg, src, size, licence in SAMPLES:
        root, source = roots[pkg]
        im = Image.open(root / src).convert("RGB")
        if size:
            im = im.resize(size, Image.LANCZOS)
        assert max(im.size) <= 640, (name, im.size)
        path = OUT / name
        if name.endswith(".png"):
            im.save(path, "PNG", optimize=True)
        else:
            im.save(path, "JPEG", quality=90)
        assert path.stat().st_size < MAX_BYTES, (name, path.stat().st_size)
        listing.append({"file": name, "title": title, "source": source + src, "licence": licence,
                        "width": im.width, "height": im.height})
        print(f"wrote {path} {im.width}x{im.height} {path.stat().st_size} bytes")
    (OUT / "samples.json").write_text(json.dumps(listing, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
