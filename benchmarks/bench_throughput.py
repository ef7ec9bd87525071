"""Images per second of the KD student against a bare PyTorch loop, CIFAR-shaped, fp32 and bf16.

Both train the same CIFAR ResNet on the same random CIFAR-shaped tensors
(``--n`` images of 3x32x32, 10 classes) held in CPU memory, for ``--epochs``
epochs of ``--batch-size``, with Adam:

* "bare": a hand-written loop that moves each shuffled batch to the device,
  runs forward, cross-entropy, backward and the optimiser step;
* "KD student": :class:`prunekd.DistillationClassifier` with ``alpha=0.5``
  and a teacher (the same architecture), its outputs cached before training,
  so each step adds the distillation term to the loss, as a student does.

bfloat16 runs both under ``torch.autocast`` (the student with
``mixed_precision=True``). Each contender runs one warm-up epoch first
(cuDNN autotuning, allocator); the best of ``--repeats`` timed runs counts.
The ratio student / bare (images per second) is printed per precision;
the target is >= 0.9.

    python benchmarks/bench_throughput.py --device cuda [--n 10000] [--epochs 2]
"""

import argparse
import time
import warnings

import numpy as np
import torch

from prunekd import DistillationClassifier
from prunekd.models import ResNetCIFAR


def _synchronize(device):
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def _module(args):
    torch.manual_seed(0)
    return ResNetCIFAR(depth=args.depth, n_classes=10, in_channels=3, width=args.width)


def bare(X, y, args, bf16, epochs):
    module = _module(args).to(args.device)
    optimizer = torch.optim.Adam(module.parameters(), lr=1e-3)
    Xt, yt = torch.as_tensor(X), torch.as_tensor(y)
    device_type = torch.device(args.device).type
    module.train()
    for _ in range(epochs):
        order = torch.randperm(len(Xt))
        for start in range(0, len(Xt), args.batch_size):
            batch = order[start : start + args.batch_size]
            xb = Xt[batch].to(args.device, non_blocking=True)
            yb = yt[batch].to(args.device, non_blocking=True)
            optimizer.zero_grad()
            with torch.autocast(device_type, dtype=torch.bfloat16, enabled=bf16):
                loss = torch.nn.functional.cross_entropy(module(xb), yb)
            loss.backward()
            optimizer.step()
    _synchronize(args.device)


def student(X, y, args, bf16, epochs, teacher):
    DistillationClassifier(
        _module(args), teacher=teacher, alpha=0.5, optimizer=torch.optim.Adam, lr=1e-3,
        batch_size=args.batch_size, max_epochs=epochs, device=args.device,
        mixed_precision=bf16, random_state=0, verbose=0,
    ).fit(X, y)  # fmt: skip
    _synchronize(args.device)


def _best(run, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--n", type=int, default=10000, help="CIFAR-shaped training images")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--depth", type=int, default=20, help="CIFAR ResNet depth (20, 32, ...)")
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args(argv)
    if torch.device(args.device).type == "cuda" and not torch.cuda.is_available():
        print("no CUDA GPU here: pass --device cpu to run it on the CPU")
        return 0
    # Random labels: a teacher cannot know them, and the student says so; irrelevant to speed.
    warnings.filterwarnings("ignore", message="the teacher predicts the labels of only")
    rng = np.random.RandomState(0)
    X = rng.randn(args.n, 3, 32, 32).astype(np.float32)
    y = rng.randint(0, 10, args.n).astype(np.int64)
    teacher = DistillationClassifier(_module(args), alpha=0, max_epochs=1, batch_size=args.batch_size,
                                     device=args.device, random_state=0, verbose=0).fit(X[:512], y[:512])  # fmt: skip
    print(f"{args.n} CIFAR-shaped images, ResNet-{args.depth} (width {args.width}), batch "
          f"{args.batch_size}, {args.epochs} epochs, {args.device}, best of {args.repeats}")  # fmt: skip
    print(f"{'precision':<10} {'bare img/s':>11} {'KD student img/s':>17} {'ratio':>6}")
    ratios = {}
    for name, bf16 in (("float32", False), ("bfloat16", True)):
        bare(X, y, args, bf16, 1)  # warm-up
        student(X, y, args, bf16, 1, teacher)
        images = args.n * args.epochs
        t_bare = _best(lambda: bare(X, y, args, bf16, args.epochs), args.repeats)
        t_kd = _best(lambda: student(X, y, args, bf16, args.epochs, teacher), args.repeats)
        ratios[name] = t_bare / t_kd
        print(f"{name:<10} {images / t_bare:>11.0f} {images / t_kd:>17.0f} {ratios[name]:>6.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
