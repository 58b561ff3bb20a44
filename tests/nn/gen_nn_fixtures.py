#!/usr/bin/python3
"""Fixtures for the engine/nn tests, from real PyTorch 1.13 + torchvision 0.14.

Run from the repository root with the Python that has torch:
    /usr/bin/python3 tests/nn/gen_nn_fixtures.py
Writes tests/fixtures/nn/*.txt. Floats are written as the hex of their
float32 bits, so the C tests can compare bit for bit where torch is exact.
"""
import os
import struct

import torch
from torch import nn, optim
from torchvision.models import resnet18

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'fixtures', 'nn')


def bits(t):
    return ' '.join('%08x' % struct.unpack('<I', struct.pack('<f', x))[0] for x in t.detach().flatten().tolist())


def shape(t):
    return ','.join(str(s) for s in t.shape)


def write(name, text):
    with open(os.path.join(OUT, name), 'w') as f:
        f.write(text)


def structure():
    model = resnet18()
    write('resnet18_repr.txt', repr(model) + '\n')
    write('resnet18_children.txt', ''.join(repr(c) + '\n' for c in model.children()))
    write('resnet18_state_dict.txt', ''.join('%s\t%s\t%s\n' % (k, shape(v), str(v.dtype).replace('torch.', ''))
                                             for k, v in model.state_dict().items()))
    write('resnet18_named_parameters.txt', ''.join('%s\t%s\n' % (k, shape(v)) for k, v in model.named_parameters()))
    # Output shape and parameter count of every module for a (2, 3, 224, 224) input.
    outs = {}
    for name, mod in model.named_modules():
        mod.register_forward_hook(lambda m, i, o, name=name: outs.__setitem__(name, tuple(o.shape)))
    model.eval()
    with torch.no_grad():
        model(torch.zeros(2, 3, 224, 224))
    lines = []
    for name, mod in model.named_modules():
        n = sum(p.numel() for p in mod.parameters())
        lines.append('%s\t%s\t%d\t%s\n' % (name, mod._get_name(), n, ','.join(str(s) for s in outs[name])))
    write('resnet18_modules.txt', ''.join(lines))
    model.fc = nn.Linear(512, 10)
    write('resnet18_repr_fc10.txt', repr(model) + '\n')


def init():
    """nn.Linear(512, n) after torch.manual_seed(seed); and resnet18's own init."""
    lines = []
    for seed, n in [(0, 2), (42, 3), (2**32 + 5, 1)]:
        torch.manual_seed(seed)
        fc = nn.Linear(512, n)
        lines.append('linear %d %d %s | %s\n' % (seed, n, bits(fc.weight), bits(fc.bias)))
    # resnet18(num_classes=3) after a seed: fc is drawn during construction
    # (exact), conv weights by normal_ afterwards; a Linear made next shows
    # that exactly as many numbers were drawn as torch draws.
    torch.manual_seed(7)
    model = resnet18(num_classes=3)
    after = nn.Linear(512, 1)
    lines.append('resnet_fc 7 3 %s | %s\n' % (bits(model.fc.weight), bits(model.fc.bias)))
    lines.append('resnet_next 7 1 %s | %s\n' % (bits(after.weight), bits(after.bias)))
    lines.append('resnet_conv1 7 %s\n' % bits(model.conv1.weight.flatten()[:64]))
    lines.append('resnet_ds 7 %s\n' % bits(model.layer3[0].downsample[0].weight.flatten()[-64:]))
    write('init.txt', ''.join(lines))


def grads():
    """Which parameters get .grad after one backward, for a few freezings."""
    lines = []
    torch.manual_seed(0)
    x = torch.randn(1, 3, 64, 64)
    for scenario in ['tutorial', 'layer4.1', 'bn2_frozen']:
        model = resnet18()
        for p in model.parameters():
            p.requires_grad = False
        model.fc = nn.Linear(512, 10)
        if scenario == 'layer4.1':
            for p in model.layer4[1].parameters():
                p.requires_grad = True
        if scenario == 'bn2_frozen':
            for p in model.layer4.parameters():
                p.requires_grad = True
            model.layer4[1].bn2.weight.requires_grad = False
            model.fc.bias.requires_grad = False
        model(x).sum().backward()
        names = [n for n, p in model.named_parameters() if p.grad is not None]
        lines.append('%s %s\n' % (scenario, ' '.join(names)))
    write('grads.txt', ''.join(lines))


def optimizers():
    """A few steps of SGD and Adam on small tensors with given gradients.

    Parameters: p0 (13: a vector of 8 and a tail), p1 (3, 2), p2 (4) whose grad stays None (skipped),
    p3 (2) that does not require grad. Step 3 gives p1 no grad (None)."""
    torch.manual_seed(1)
    init = [torch.randn(13), torch.randn(3, 2), torch.randn(4), torch.randn(2)]
    steps = 4
    gs = [[torch.randn_like(init[0]), torch.randn_like(init[1])] for _ in range(steps)]
    lines = ['init %s\n' % ' | '.join(bits(t) for t in init)]
    for s in range(steps):
        lines.append('grads %s | %s\n' % (bits(gs[s][0]), bits(gs[s][1])))
    configs = [
        ('sgd', dict(lr=0.1)),
        ('sgd', dict(lr=0.01, momentum=0.9)),
        ('sgd', dict(lr=0.05, momentum=0.9, dampening=0.5, weight_decay=1e-2)),
        ('sgd', dict(lr=0.05, momentum=0.8, weight_decay=1e-3, nesterov=True)),
        ('adam', dict(lr=1e-3)),
        ('adam', dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)),
    ]
    for kind, kw in configs:
        ps = [t.clone().requires_grad_(i != 3) for i, t in enumerate(init)]
        if kind == 'sgd':
            o = optim.SGD(ps, lr=kw['lr'], momentum=kw.get('momentum', 0), dampening=kw.get('dampening', 0),
                          weight_decay=kw.get('weight_decay', 0), nesterov=kw.get('nesterov', False))
            lines.append('sgd %r %r %r %r %d\n' % (kw['lr'], kw.get('momentum', 0), kw.get('dampening', 0),
                                                  kw.get('weight_decay', 0), int(kw.get('nesterov', False))))
        else:
            b = kw.get('betas', (0.9, 0.999))
            o = optim.Adam(ps, lr=kw['lr'], betas=b, eps=kw.get('eps', 1e-8), weight_decay=kw.get('weight_decay', 0))
            lines.append('adam %r %r %r %r %r\n' % (kw['lr'], b[0], b[1], kw.get('eps', 1e-8), kw.get('weight_decay', 0)))
        for s in range(steps):
            o.zero_grad(set_to_none=True)
            ps[0].grad = gs[s][0].clone()
            if s != 2:
                ps[1].grad = gs[s][1].clone()
            o.step()
            lines.append('after %s\n' % ' | '.join(bits(p) for p in ps))
        lines.append('state %d\n' % len(o.state))
    write('optim.txt', ''.join(lines))


def deterministic_resnet(seed, num_classes):
    """resnet18 with weights the C side can make bit for bit (uniform draws
    only): resnet18()'s own draws, then every module re-drawn in modules()
    order: convs and fc reset_parameters(), BatchNorm's four tensors uniform."""
    torch.manual_seed(seed)
    model = resnet18(num_classes=num_classes)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                m.reset_parameters()
            elif isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 2.0)
    return model


def forward():
    """Logits in eval and train mode, the loss, running stats and a few grads."""
    model = deterministic_resnet(3, 5)
    x = torch.rand(2, 3, 64, 64)
    target = torch.tensor([1, 3])

    def vals(t):
        return ' '.join('%.9g' % v for v in t.detach().flatten().tolist())
    lines = []
    model.eval()
    with torch.no_grad():
        lines.append('eval_logits %s\n' % vals(model(x)))
    model.train()
    logits = model(x)
    loss = nn.functional.cross_entropy(logits, target)
    loss.backward()
    lines.append('train_logits %s\n' % vals(logits))
    lines.append('loss %s\n' % vals(loss))
    lines.append('bn1.running_mean %s\n' % vals(model.bn1.running_mean[:8]))
    lines.append('layer4.1.bn2.running_var %s\n' % vals(model.layer4[1].bn2.running_var[:8]))
    lines.append('num_batches_tracked %d\n' % model.bn1.num_batches_tracked.item())
    lines.append('fc.weight.grad %s\n' % vals(model.fc.weight.grad.flatten()[:16]))
    lines.append('fc.bias.grad %s\n' % vals(model.fc.bias.grad))
    lines.append('layer4.1.bn2.weight.grad %s\n' % vals(model.layer4[1].bn2.weight.grad[:8]))
    lines.append('layer2.0.downsample.0.weight.grad %s\n' % vals(model.layer2[0].downsample[0].weight.grad.flatten()[:8]))
    lines.append('conv1.weight.grad %s\n' % vals(model.conv1.weight.grad.flatten()[:16]))
    write('forward.txt', ''.join(lines))


def load_reports():
    """str(error) of load_state_dict(strict=True) for bad state dicts."""
    model = resnet18()
    good = model.state_dict()
    cases = []
    sd = dict(good)
    del sd['fc.bias']
    del sd['layer1.0.bn1.running_var']
    sd['foo.weight'] = torch.zeros(3)
    sd['fc.weight'] = torch.zeros(10, 512)
    cases.append(('mixed', sd))
    sd = dict(good)
    sd['conv1.weight'] = torch.zeros(64, 3, 3, 3)
    cases.append(('mismatch', sd))
    sd = {k: v for k, v in good.items() if not k.endswith('num_batches_tracked')}
    cases.append(('no_nbt', sd))
    out = []
    for name, sd in cases:
        try:
            model.load_state_dict(sd, strict=True)
            msg = 'OK'
        except RuntimeError as e:
            msg = str(e)
        out.append('=== %s\n%s\n' % (name, msg))
    write('load_reports.txt', ''.join(out))


if __name__ == '__main__':
    os.makedirs(OUT, exist_ok=True)
    structure()
    init()
    grads()
    optimizers()
    forward()
    load_reports()
