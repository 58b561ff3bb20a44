// finetune-script.mjs: finetune.py, the PyTorch script that reproduces a fine-tuning session:
// the same model, weights, freeze state, head (torch.manual_seed(headSeed)), optimizer, settings,
// preprocessing and data order (ImageFolder, DataLoader(shuffle=True, generator=manual_seed(seed))).
// Written for a learner to read. Guarded by tests/node/finetune-script.test.mjs (the text) and
// tests/resnet/finetune-cli.test.mjs (run by python3-torch, it gives the command's head).

const py = (v) => (typeof v === 'boolean' ? (v ? 'True' : 'False') : typeof v === 'string' ? JSON.stringify(v) : String(v));

function transforms(s) {
	const norm = ['T.ToTensor(),', 'T.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225]),'];
	const evalTf = s.keepWhole ? ['T.Resize((224, 224)),   # the whole picture, squashed: no crop'] : ['T.Resize(256),', 'T.CenterCrop(224),'];
	const trainTf = s.augment ? ['T.RandomResizedCrop(224),', 'T.RandomHorizontalFlip(),'] : evalTf;
	const block = (lines) => lines.map((l) => `    ${l}`).join('\n');
	return `eval_transform = T.Compose([\n${block([...evalTf, ...norm])}\n])
train_transform = T.Compose([\n${block([...trainTf, ...norm])}\n])`;
}

function optimizerLine(s) {
	if (s.optimizer === 'adam') {
		return `optimizer = torch.optim.Adam(trainable, lr=${py(s.lr)}, betas=(${s.betas.map(py).join(', ')}), eps=${py(s.eps)}, weight_decay=${py(s.weightDecay)})`;
	}
	return `optimizer = torch.optim.SGD(trainable, lr=${py(s.lr)}, momentum=${py(s.momentum)}, weight_decay=${py(s.weightDecay)}, nesterov=${py(s.nesterov)})`;
}

function unfreezeLines(s) {
	if (s.unfreeze === 'all') return 'for p in model.parameters():          # everything trains\n    p.requires_grad = True';
	if (s.unfreeze === 'layer4,fc') return 'for p in model.layer4.parameters():   # layer4 trains too\n    p.requires_grad = True';
	return '# only the new fc trains';
}

/**
 * The text of finetune.py for a session.
 * @param {{ settings: object, labels: string[], weightsName?: string }} session settings as
 *   checkSettings returns them; labels in the page's class order
 * @returns {string}
 */
export function finetuneScript({ settings: s, labels, weightsName = 'resnet18.pth' }) {
	const bn = s.bnMode === 'train'
		? 'model.train()   # BatchNorm normalises with each batch and updates its running statistics'
		: 'model.eval()    # BatchNorm uses its running statistics (the backbone is a fixed function)';
	return `#!/usr/bin/env python3
"""Fine-tuning a ResNet-18 on your images: the session you ran in Gradbox, as a PyTorch script.

    python finetune.py [--data DIR] [--weights ${weightsName}] [--out DIR]

--data holds train/ and val/ in torchvision's ImageFolder layout (one folder per class; the
number in front of each folder keeps your class order, because ImageFolder sorts folder names).
It writes finetuned_head.pth (fc.weight, fc.bias), finetuned_model.pth (the whole state_dict),
the same as .safetensors when the safetensors package is installed, and history.json.

With the same data, settings and weights this gives the head Gradbox trained, within float
rounding: the same data order (the DataLoader's generator), the same head initialisation
(torch.manual_seed before nn.Linear) and the same preprocessing.${s.augment ? `
NOTE: augmentation draws random crops and flips; Gradbox draws them with its own generator, so
the crops here (and the numbers they lead to) are not the page's.` : ''}
"""
import argparse
import json
import os
import struct

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
import torchvision.transforms as T
from torch.utils.data import DataLoader
from torchvision.datasets import ImageFolder
from torchvision.datasets.folder import IMG_EXTENSIONS

CLASSES = ${JSON.stringify(labels)}
EPOCHS = ${py(s.epochs)}
BATCH_SIZE = ${py(s.batchSize)}
SEED = ${py(s.seed)}            # the DataLoader's shuffling
HEAD_SEED = ${py(s.headSeed)}       # torch.manual_seed before model.fc = nn.Linear(512, N)

${transforms(s)}


def load_weights(path):
    """A state_dict from a .pth or a .safetensors file (F32, F16, BF16, I64)."""
    if not path.endswith(".safetensors"):
        return torch.load(path, map_location="cpu")
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    dtypes = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "I64": torch.int64}
    out = {}
    for key, t in header.items():
        if key == "__metadata__":
            continue
        a, b = t["data_offsets"]
        raw = bytearray(data[8 + n + a:8 + n + b])
        out[key] = torch.frombuffer(raw, dtype=dtypes[t["dtype"]]).reshape(t["shape"]).float() \\
            if t["dtype"] != "I64" else torch.frombuffer(raw, dtype=torch.int64).reshape(t["shape"])
    return out


def run_epoch(model, loader, optimizer=None):
    """One pass over loader: trains when given an optimizer; returns (mean loss, accuracy)."""
    loss_sum, correct, n = 0.0, 0, 0
    for x, y in loader:
        if optimizer is not None:
            optimizer.zero_grad()
            logits = model(x)
            loss = F.cross_entropy(logits, y)
            loss.backward()
            optimizer.step()
        else:
            with torch.no_grad():
                logits = model(x)
                loss = F.cross_entropy(logits, y)
        loss_sum += loss.item() * len(y)
        correct += (logits.argmax(1) == y).sum().item()
        n += len(y)
    return loss_sum / max(n, 1), correct / max(n, 1)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=here, help="the folder with train/ and val/")
    parser.add_argument("--weights", default=os.path.join(here, ${JSON.stringify(weightsName)}), help="resnet18 weights")
    parser.add_argument("--out", default=".", help="where the trained weights go")
    args = parser.parse_args()

    extensions = tuple(IMG_EXTENSIONS) + (".gif",)
    is_image = lambda p: p.lower().endswith(extensions)  # noqa: E731
    train_set = ImageFolder(os.path.join(args.data, "train"), train_transform, is_valid_file=is_image)
    assert len(train_set.classes) == len(CLASSES), f"{len(train_set.classes)} class folders, {len(CLASSES)} classes"
    val_dir = os.path.join(args.data, "val")
    val_set = ImageFolder(val_dir, eval_transform, is_valid_file=is_image) if os.path.isdir(val_dir) and any(
        os.scandir(val_dir)) else None
    if val_set:
        # NOTE: a class with no held-out image has no folder in val/, and ImageFolder numbers the
        # folders it finds: give each validation image its class number from train/.
        val_set.samples = [(p, train_set.class_to_idx[val_set.classes[t]]) for p, t in val_set.samples]
        val_set.targets = [t for _, t in val_set.samples]

    model = torchvision.models.resnet18()
    model.load_state_dict(load_weights(args.weights))
    for p in model.parameters():             # freeze everything...
        p.requires_grad = False
    torch.manual_seed(HEAD_SEED)
    model.fc = nn.Linear(512, len(CLASSES))  # ...and a new head, which requires grad
    ${unfreezeLines(s).split('\n').join('\n    ')}
    trainable = [p for p in model.parameters() if p.requires_grad]
    ${optimizerLine(s)}

    train_loader = DataLoader(train_set, batch_size=BATCH_SIZE, shuffle=True,
                              generator=torch.Generator().manual_seed(SEED), num_workers=0)
    val_loader = DataLoader(val_set, batch_size=BATCH_SIZE, num_workers=0) if val_set else None

    history = []
    for epoch in range(EPOCHS):
        ${bn}
        train_loss, train_acc = run_epoch(model, train_loader, optimizer)
        model.eval()
        val_loss, val_acc = run_epoch(model, val_loader) if val_loader else (float("nan"), float("nan"))
        history.append({"epoch": epoch + 1, "trainLoss": train_loss, "trainAcc": train_acc, "valLoss": val_loss, "valAcc": val_acc})
        print(f"epoch {epoch + 1}/{EPOCHS}: train loss {train_loss:.4f} acc {train_acc:.3f}   "
              f"val loss {val_loss:.4f} acc {val_acc:.3f}", flush=True)

    os.makedirs(args.out, exist_ok=True)
    head = {"fc.weight": model.fc.weight.detach().clone(), "fc.bias": model.fc.bias.detach().clone()}
    full = {k: v.detach().clone() for k, v in model.state_dict().items()}
    torch.save(head, os.path.join(args.out, "finetuned_head.pth"))
    torch.save(full, os.path.join(args.out, "finetuned_model.pth"))
    try:
        from safetensors.torch import save_file
        save_file(head, os.path.join(args.out, "finetuned_head.safetensors"))
        save_file(full, os.path.join(args.out, "finetuned_model.safetensors"))
    except ImportError:
        print("(no safetensors package: .pth files only)")
    with open(os.path.join(args.out, "history.json"), "w") as f:
        json.dump({"classes": CLASSES, "history": history}, f, indent=1)


if __name__ == "__main__":
    main()
`;
}
