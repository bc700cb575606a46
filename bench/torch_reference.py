#!/usr/bin/env python3
"""PyTorch reference for `bench/engine.ts`: the same networks, batch sizes and steps, on the CPU.

Runs with 2 threads and flushed denormals (as the numbers in the engine issue were measured) and prints one
JSON line per (network, mode) with the keys bench/engine.ts prints, backend "pytorch".

    python3 bench/torch_reference.py [--network NAME] [--mode train|infer] [--threads 2] [--seconds 3]
"""
import argparse
import json
import os
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def make_divisible(v, divisor=8):
    n = max(divisor, int(v + divisor / 2) // divisor * divisor)
    if n < 0.9 * v:
        n += divisor
    return n


class SmallCNN(nn.Module):
    """conv3x3 32 same relu, maxpool 2, conv3x3 64 same relu, maxpool 2, flatten, dense 128 relu, dense 10."""

    def __init__(self, size, channels, classes=10):
        super().__init__()
        self.c1 = nn.Conv2d(channels, 32, 3, padding=1)
        self.c2 = nn.Conv2d(32, 64, 3, padding=1)
        self.f1 = nn.Linear(64 * (size // 4) ** 2, 128)
        self.f2 = nn.Linear(128, classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.c1(x)), 2)
        x = F.max_pool2d(F.relu(self.c2(x)), 2)
        return self.f2(F.relu(self.f1(torch.flatten(x, 1))))


def conv_bn(cin, cout, k, s, groups=1, relu6=True):
    layers = [nn.Conv2d(cin, cout, k, s, k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout, eps=1e-3)]
    if relu6:
        layers.append(nn.ReLU6(inplace=True))
    return nn.Sequential(*layers)


class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, stride, expansion):
        super().__init__()
        hidden = cin * expansion
        layers = [] if expansion == 1 else [conv_bn(cin, hidden, 1, 1)]
        layers += [conv_bn(hidden, hidden, 3, stride, groups=hidden), conv_bn(hidden, cout, 1, 1, relu6=False)]
        self.body = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        return x + self.body(x) if self.residual else self.body(x)


class MobileNetV2(nn.Module):
    """Keras-layout MobileNetV2 (same channel counts as backbones/mobilenet_v2.ts)."""

    BLOCKS = [(16, 1, 1), (24, 2, 6), (24, 1, 6), (32, 2, 6), (32, 1, 6), (32, 1, 6), (64, 2, 6), (64, 1, 6),
              (64, 1, 6), (64, 1, 6), (96, 1, 6), (96, 1, 6), (96, 1, 6), (160, 2, 6), (160, 1, 6), (160, 1, 6),
              (320, 1, 6)]

    def __init__(self, alpha, classes=10):
        super().__init__()
        c = make_divisible(32 * alpha)
        layers = [conv_bn(3, c, 3, 2)]
        for filters, stride, expansion in self.BLOCKS:
            out = make_divisible(int(filters * alpha))
            layers.append(InvertedResidual(c, out, stride, expansion))
            c = out
        last = make_divisible(1280 * alpha) if alpha > 1.0 else 1280
        layers.append(conv_bn(c, last, 1, 1))
        self.features = nn.Sequential(*layers)
        self.fc = nn.Linear(last, classes)

    def forward(self, x):
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(self.features(x), 1), 1))


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.c1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.b1 = nn.BatchNorm2d(cout)
        self.c2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.b2 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.b1(self.c1(x)))
        y = self.b2(self.c2(y))
        return F.relu(y + (self.down(x) if self.down is not None else x))


class ResNet(nn.Module):
    def __init__(self, depths, classes=10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(inplace=True),
                                  nn.MaxPool2d(3, 2, 1))
        layers, c = [], 64
        for stage, n in enumerate(depths):
            for i in range(n):
                out = 64 * 2 ** stage
                layers.append(BasicBlock(c, out, 2 if i == 0 and stage > 0 else 1))
                c = out
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(c, classes)

    def forward(self, x):
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(self.layers(self.stem(x)), 1), 1))


NETWORKS = {
    # name: (builder, image size, channels, batch)
    'small_cnn': (lambda: SmallCNN(28, 1), 28, 1, 64),
    'mobilenet_v2_035': (lambda: MobileNetV2(0.35), 96, 3, 32),
    'mobilenet_v2_100': (lambda: MobileNetV2(1.0), 96, 3, 32),
    'resnet18': (lambda: ResNet([2, 2, 2, 2]), 64, 3, 32),
}


def cpu_times():
    with open('/proc/stat') as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    busy = sum(fields) - fields[3] - (fields[4] if len(fields) > 4 else 0)
    t = os.times()
    return busy, (t.user + t.system) * os.sysconf('SC_CLK_TCK')


def bench(name, mode, seconds, warmup):
    build, size, channels, batch = NETWORKS[name]
    torch.manual_seed(0)
    model = build()
    x = torch.randn(batch, channels, size, size)
    y = torch.randint(0, 10, (batch,))
    if mode == 'train':
        model.train()
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)

        def step():
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
    else:
        model.eval()

        def step():
            with torch.no_grad():
                model(x)
    for _ in range(warmup):
        step()
    busy0, self0 = cpu_times()
    t0 = time.perf_counter()
    steps = 0
    while steps < 3 or time.perf_counter() - t0 < seconds:
        step()
        steps += 1
    elapsed = time.perf_counter() - t0
    busy1, self1 = cpu_times()
    hz = os.sysconf('SC_CLK_TCK')
    other = max(0.0, ((busy1 - busy0) - (self1 - self0)) / hz / elapsed)
    return {
        'network': name, 'backend': 'pytorch', 'mode': mode, 'batch': batch,
        'images_per_s': round(batch * steps / elapsed, 2), 'steps': steps, 'seconds': round(elapsed, 3),
        'image_size': size, 'threads': torch.get_num_threads(), 'other_cpu_cores': round(other, 3),
        'contended': other > 0.2, 'torch': torch.__version__,
    }


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--network', default='all')
    p.add_argument('--mode', default='all', choices=['all', 'train', 'infer'])
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--seconds', type=float, default=3.0)
    p.add_argument('--warmup', type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.set_flush_denormal(True)
    names = list(NETWORKS) if a.network == 'all' else a.network.split(',')
    modes = ['train', 'infer'] if a.mode == 'all' else [a.mode]
    for name in names:
        if name not in NETWORKS:
            raise SystemExit(f'unknown network {name!r}; known: {", ".join(NETWORKS)}')
        for mode in modes:
            print(json.dumps(bench(name, mode, a.seconds, a.warmup)), flush=True)


if __name__ == '__main__':
    main()
