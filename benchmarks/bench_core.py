"""Side-by-side timings of the core estimators, measured in one run.

Prints four ratios on the digits data (1,257 training images, small CNN):

1. ``DistillationClassifier`` fit over plain skorch ``NeuralNetClassifier`` fit
   (same module, data, optimizer, batch size and epochs; target <= 1.10);
2. plain skorch fit over a bare PyTorch training loop (reported);
3. the per-sample Python loop over batched GraNd scoring (the speed-up);
4. the same distillation fit with ``mixed_precision=True`` over float32
   (bfloat16 autocast: expect a gain on GPUs with bfloat16 tensor cores, a
   loss on most CPUs).

Every timing is the best of ``--repeats`` runs (the least disturbed by other
load on the machine), the contenders interleaved in alternating order so that noise hits them alike.

Usage::

    python benchmarks/bench_core.py [--epochs 30] [--repeats 5] [--threads 1] [--width 16]
                                    [--device cpu]
"""

import argparse
import time

import numpy as np
import torch
from skorch import NeuralNetClassifier

from prunekd import DistillationClassifier
from prunekd.datasets import load_digits
from prunekd.models import SmallCNN
from prunekd.pruning import per_sample_grad_norms
from prunekd.pruning._grand import per_sample_grad_norms_loop


def _timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _common(args):
    return dict(
        module__n_classes=10,
        module__width=args.width,
        criterion=torch.nn.CrossEntropyLoss,
        optimizer=torch.optim.Adam,
        lr=3e-3,
        batch_size=args.batch_size,
        max_epochs=args.epochs,
        train_split=None,
        iterator_train__shuffle=True,
        verbose=0,
        device=args.device,
    )


def bare_loop(X, y, args):
    """The same training as skorch does, written as a bare PyTorch loop."""
    torch.manual_seed(0)
    module = SmallCNN(n_classes=10, width=args.width).to(args.device)
    optimizer = torch.optim.Adam(module.parameters(), lr=3e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    Xt = torch.as_tensor(X, device=args.device)
    yt = torch.as_tensor(y, device=args.device)
    module.train()
    for _ in range(args.epochs):
        order = torch.randperm(len(Xt), device=args.device)
        for start in range(0, len(Xt), args.batch_size):
            batch = order[start : start + args.batch_size]
            optimizer.zero_grad()
            loss = loss_fn(module(Xt[batch]), yt[batch])
            loss.backward()
            optimizer.step()
    if args.device.startswith("cuda"):
        torch.cuda.synchronize()


def _parse(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--grand-samples", type=int, default=512)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--width", type=int, default=16, help="SmallCNN width (16 = default)")
    return parser.parse_args(argv)


def _fit_times(X, y, args):
    """Best time of each fit (KD, plain skorch, bare loop, KD in bfloat16), in alternating order."""
    teacher = NeuralNetClassifier(SmallCNN, **{**_common(args), "max_epochs": 5}).fit(X, y)

    def plain():
        torch.manual_seed(0)
        NeuralNetClassifier(SmallCNN, **_common(args)).fit(X, y)

    def kd(**extra):
        DistillationClassifier(SmallCNN, teacher=teacher, alpha=0.5, random_state=0, **extra,
                               **_common(args)).fit(X, y)  # fmt: skip

    contenders = {"kd": kd, "plain": plain, "bare": lambda: bare_loop(X, y, args),
                  "kd_bf16": lambda: kd(mixed_precision=True)}  # fmt: skip
    times = {name: [] for name in contenders}
    for repeat in range(args.repeats):
        # Alternate the order (ABC, CBA, ...) so that no contender always runs first.
        order = list(contenders) if repeat % 2 == 0 else list(contenders)[::-1]
        for name in order:
            times[name].append(_timed(contenders[name]))
    return {k: min(v) for k, v in times.items()}


def _grand_times(X, y, args):
    """Batched GraNd norms against the per-sample loop: both times and whether they agree."""
    torch.manual_seed(0)
    module = SmallCNN(n_classes=10).to(args.device)
    Xg, yg = X[: args.grand_samples], y[: args.grand_samples]
    batched = min(_timed(lambda: per_sample_grad_norms(module, Xg, yg, batch_size=128))
                  for _ in range(args.repeats))  # fmt: skip
    loop = min(_timed(lambda: per_sample_grad_norms_loop(module, Xg, yg))
               for _ in range(args.repeats))  # fmt: skip
    agree = np.allclose(per_sample_grad_norms(module, Xg, yg),
                        per_sample_grad_norms_loop(module, Xg, yg), rtol=1e-4)  # fmt: skip
    return len(Xg), batched, loop, agree


def main(argv=None):
    args = _parse(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    X, y = load_digits()
    X, y = X[:1257], y[:1257]
    med = _fit_times(X, y, args)
    n_grand, t_batched, t_loop, agree = _grand_times(X, y, args)
    print(f"device={args.device} SmallCNN(width={args.width}) epochs={args.epochs} "
          f"batch_size={args.batch_size} "
          f"n_train={len(X)} repeats={args.repeats} torch_threads={torch.get_num_threads()}")
    print(f"DistillationClassifier fit : {med['kd']:.3f} s")
    print(f"skorch NeuralNetClassifier : {med['plain']:.3f} s")
    print(f"bare PyTorch loop          : {med['bare']:.3f} s")
    print(f"KD fit / plain skorch fit  : {med['kd'] / med['plain']:.3f}  (target <= 1.10)")
    print(f"plain skorch / bare loop   : {med['plain'] / med['bare']:.3f}")
    print(f"KD fit, bfloat16 / float32 : {med['kd_bf16'] / med['kd']:.3f}")
    print(f"GraNd on {n_grand} samples   : batched {t_batched:.3f} s, per-sample loop "
          f"{t_loop:.3f} s, speed-up {t_loop / t_batched:.1f}x (same norms: {agree})")


if __name__ == "__main__":
    main()
