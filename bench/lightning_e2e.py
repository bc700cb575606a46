"""Lightning 2.x counterpart of `flash image_classification --from_folders D/train` + `flash evaluate D/test`.

The same recipe as flash's defaults: ImageFolder-style loading (class sub-folders in sorted order, PIL decode
and bilinear resize in __getitem__, as torchvision's ImageFolder + Resize would; torchvision itself is not used:
its wheel here does not load with the CPU torch), a seeded 20% stratified validation split, Adam 1e-3,
random horizontal flip (p=0.5) on train, batch 32, the best epoch on val accuracy, test on that checkpoint.
Networks: simple_cnn (flash's: conv32-pool-conv64-pool-dense128, 'same' padding, ReLU); resnet18 and
mobilenet_v2_035 from bench/torch_reference.py (the networks bench:engine times).

  python bench/lightning_e2e.py --train D/train --test D/test [--size 28] [--channels 1] [--epochs 3]
      [--batch 32] [--seed 42] [--threads 2] [--workers 0] [--out DIR] [--network simple_cnn|resnet18|mobilenet_v2_035]

Prints one JSON line: test_accuracy, best_val_accuracy, best_epoch, seconds (inside python, after imports).
"""
import argparse
import json
import os
import random
import sys
import time


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--train', required=True)
    p.add_argument('--test', required=True)
    p.add_argument('--size', type=int, default=28)
    p.add_argument('--channels', type=int, default=1)
    p.add_argument('--epochs', type=int, default=3)
    p.add_argument('--batch', type=int, default=32)
    p.add_argument('--seed', type=int, default=42)
    p.add_argument('--threads', type=int, default=os.cpu_count())
    p.add_argument('--workers', type=int, default=0)
    p.add_argument('--out', default=None)
    p.add_argument('--network', default='simple_cnn', choices=['simple_cnn', 'resnet18', 'mobilenet_v2_035'])
    a = p.parse_args()
    t_start = time.time()

    import numpy as np
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    import lightning as L
    from lightning.pytorch.callbacks import ModelCheckpoint
    from PIL import Image
    from torch.utils.data import DataLoader, Dataset

    torch.set_num_threads(a.threads)
    L.seed_everything(a.seed, workers=True)
    exts = {'.jpg', '.jpeg', '.png', '.webp', '.gif', '.tif', '.tiff'}

    def scan(root):
        classes = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)) and not d.startswith('.'))
        items = []
        for i, c in enumerate(classes):
            for f in sorted(os.listdir(os.path.join(root, c))):
                if os.path.splitext(f)[1].lower() in exts:
                    items.append((os.path.join(root, c, f), i))
        return classes, items

    mode = 'L' if a.channels == 1 else 'RGB'

    class Folder(Dataset):
        def __init__(self, items, train):
            self.items, self.train = items, train

        def __len__(self):
            return len(self.items)

        def __getitem__(self, i):
            path, y = self.items[i]
            with Image.open(path) as im:
                im = im.convert(mode)
                if im.size != (a.size, a.size):
                    im = im.resize((a.size, a.size), Image.BILINEAR)
                x = torch.from_numpy(np.asarray(im, dtype=np.float32) / 255.0)
            x = x.unsqueeze(0) if a.channels == 1 else x.permute(2, 0, 1)
            if self.train and random.random() < 0.5:
                x = torch.flip(x, dims=[2])
            return x, y

    classes, items = scan(a.train)
    # Stratified, seeded 20% validation split.
    rng = random.Random(a.seed)
    by_class = {}
    for it in items:
        by_class.setdefault(it[1], []).append(it)
    train_items, val_items = [], []
    for c in sorted(by_class):
        group = by_class[c][:]
        rng.shuffle(group)
        n_val = round(len(group) * 0.2)
        val_items += group[:n_val]
        train_items += group[n_val:]
    _, test_items = scan(a.test)

    class SimpleCnnNet(nn.Module):
        def __init__(self, k):
            super().__init__()
            self.c1 = nn.Conv2d(a.channels, 32, 3, padding=1)
            self.c2 = nn.Conv2d(32, 64, 3, padding=1)
            self.fc = nn.Linear(64 * (a.size // 4) ** 2, 128)
            self.out = nn.Linear(128, k)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.c1(x)), 2)
            x = F.max_pool2d(F.relu(self.c2(x)), 2)
            return self.out(F.relu(self.fc(torch.flatten(x, 1))))

    def build(k):
        if a.network == 'simple_cnn':
            return SimpleCnnNet(k)
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import torch_reference as ref
        return ref.ResNet([2, 2, 2, 2], classes=k) if a.network == 'resnet18' else ref.MobileNetV2(0.35, classes=k)

    class SimpleCnn(L.LightningModule):
        def __init__(self, k):
            super().__init__()
            self.net = build(k)

        def forward(self, x):
            return self.net(x)

        def training_step(self, b, _):
            x, y = b
            loss = F.cross_entropy(self(x), y)
            self.log('train_loss', loss)
            return loss

        def _acc(self, b, name):
            x, y = b
            acc = (self(x).argmax(1) == y).float().mean()
            self.log(name, acc, on_epoch=True, batch_size=len(y))

        def validation_step(self, b, _):
            self._acc(b, 'val_acc')

        def test_step(self, b, _):
            self._acc(b, 'test_acc')

        def configure_optimizers(self):
            return torch.optim.Adam(self.parameters(), lr=1e-3)

    dl = lambda its, train: DataLoader(Folder(its, train), batch_size=a.batch, shuffle=train, num_workers=a.workers)
    out = a.out or os.path.join('/tmp', f'lightning-e2e-{os.getpid()}')
    ckpt = ModelCheckpoint(dirpath=out, monitor='val_acc', mode='max', save_top_k=1)
    trainer = L.Trainer(max_epochs=a.epochs, accelerator='cpu', devices=1, callbacks=[ckpt], logger=False,
                        enable_progress_bar=False, enable_model_summary=False, default_root_dir=out)
    model = SimpleCnn(len(classes))
    trainer.fit(model, dl(train_items, True), dl(val_items, False))
    res = trainer.test(model, dl(test_items, False), ckpt_path='best', verbose=False)
    print(json.dumps({
        'test_accuracy': round(float(res[0]['test_acc']), 4),
        'best_val_accuracy': round(float(ckpt.best_model_score), 4),
        'best_model': os.path.basename(ckpt.best_model_path),
        'seconds_after_start': round(time.time() - t_start, 2),
        'torch': torch.__version__, 'lightning': L.__version__,
    }))


if __name__ == '__main__':
    sys.exit(main())
