#!/usr/bin/python3
"""Native PyTorch, the bench's third contestant, driven line by line by bench/torch/torch-node.mjs.

    /usr/bin/python3 bench/torch/torch_runner.py        (reads JSON commands on stdin)

One JSON command a line on stdin, one JSON answer a line on stdout (nothing else is printed
there; warnings go to stderr). The Node side alternates this process's runs with Gradbox's, so
that both see the same minutes of a shared machine.

  {"setup": {"weights": PTH, "input": F32, "batch": B, "threads": T, "mode": "eval"|"train",
             "paths": ["fc"]}}
        torch.set_num_threads(T); torchvision's resnet18 with PTH loaded (strict). eval: the
        model in eval mode. train: fc = Linear(512, 10) after torch.manual_seed(1), every
        parameter frozen but those under `paths` ("" = all), train() (BatchNorm in training
        mode), SGD(model.parameters(), lr=1e-2, momentum=0.9): bench-core.mjs's TRAIN_CASES and
        setupTrainModel, the same for Gradbox. F32 holds the input, (B, 3, 224, 224) float32.
        -> {"torch": version, "threads": T, "setup_ms": ms}
  {"run": {}}   one eval forward under no_grad, or one training step (forward, cross-entropy
        with targets i % 10, zero_grad, backward, step) -> {"ms": time of the run, "loss"?: x}
  {"layers": {}}  one eval forward under no_grad, each module timed by forward hooks (bench/layers.mjs)
        -> {"ms": the forward's time, "modules": {path: ms, summed over its calls}}
  {"logits": {}}  the last eval forward's logits, flat -> {"logits": [...]}
  {"peak": {}}  -> {"peak_rss_mb": the process's peak RSS (ru_maxrss)}
"""

import json
import resource
import sys
import time

import torch
import torch.nn.functional as F
import torchvision


class Runner:
    def setup(self, weights, input, batch, threads, mode, paths=()):
        t0 = time.perf_counter()
        torch.set_num_threads(threads)
        self.mode = mode
        model = torchvision.models.resnet18()
        model.load_state_dict(torch.load(weights, map_location="cpu"), strict=True)
        if mode == "train":
            for p in model.parameters():
                p.requires_grad = False
            torch.manual_seed(1)
            model.fc = torch.nn.Linear(512, 10)
            for p in model.fc.parameters():
                p.requires_grad = False
            for path in paths:
                sub = model.get_submodule(path) if path else model
                for p in sub.parameters():
                    p.requires_grad = True
            model.train()
            self.opt = torch.optim.SGD(model.parameters(), lr=1e-2, momentum=0.9)
            self.targets = torch.arange(batch) % 10
        else:
            model.eval()
        self.model = model
        raw = open(input, "rb").read()
        self.x = torch.frombuffer(bytearray(raw), dtype=torch.float32).reshape(batch, 3, 224, 224)
        self.out = None
        return {"torch": torch.__version__, "threads": torch.get_num_threads(),
                "setup_ms": round((time.perf_counter() - t0) * 1000, 1)}

    def run(self):
        if self.mode == "train":
            t0 = time.perf_counter()
            loss = F.cross_entropy(self.model(self.x), self.targets)
            self.opt.zero_grad()
            loss.backward()
            self.opt.step()
            ms = (time.perf_counter() - t0) * 1000
            return {"ms": ms, "loss": loss.item()}
        t0 = time.perf_counter()
        with torch.no_grad():
            self.out = self.model(self.x)
        return {"ms": (time.perf_counter() - t0) * 1000}

    def layers(self):
        times, starts = {}, {}
        handles = []
        for name, m in self.model.named_modules():
            if not name:
                continue
            def pre(_m, _x, name=name):
                starts[name] = time.perf_counter()
            def post(_m, _x, _y, name=name):
                times[name] = times.get(name, 0.0) + (time.perf_counter() - starts[name]) * 1000
            handles += [m.register_forward_pre_hook(pre), m.register_forward_hook(post)]
        try:
            t0 = time.perf_counter()
            with torch.no_grad():
                self.out = self.model(self.x)
            ms = (time.perf_counter() - t0) * 1000
        finally:
            for h in handles:
                h.remove()
        return {"ms": ms, "modules": times}

    def logits(self):
        return {"logits": self.out.flatten().tolist()}

    def peak(self):
        return {"peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def main():
    r = Runner()
    for line in sys.stdin:
        if not line.strip():
            continue
        (cmd, args), = json.loads(line).items()
        try:
            answer = getattr(r, cmd)(**args)
        except Exception as e:  # the Node side reports it in the row
            answer = {"error": f"{type(e).__name__}: {e}"}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
