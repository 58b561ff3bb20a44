#!/usr/bin/env python3
"""Writes imagenet_classes.json: the 1000 ImageNet class names in the order of ResNet-18's
logits, as torchvision 0.14 lists them for its ImageNet weights
(ResNet18_Weights.IMAGENET1K_V1.meta["categories"]). Run with Debian's python3-torchvision:

    /usr/bin/python3 assets/gen_imagenet_classes.py           # (re)write the file
    /usr/bin/python3 assets/gen_imagenet_classes.py --check   # exit 1 if the file differs
"""
import json
import pathlib
import sys

from torchvision.models import ResNet18_Weights

OUT = pathlib.Path(__file__).with_name("imagenet_classes.json")


def main() -> int:
    categories = list(ResNet18_Weights.IMAGENET1K_V1.meta["categories"])
    assert len(categories) == 1000, len(categories)
    text = json.dumps(categories, ensure_ascii=False, indent=0) + "\n"
    if "--check" in sys.argv[1:]:
        ok = OUT.read_text(encoding="utf-8") == text
        print("imagenet_classes.json matches torchvision" if ok else "imagenet_classes.json differs from torchvision")
        return 0 if ok else 1
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT} ({len(categories)} classes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
