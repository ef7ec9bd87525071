"""What pruning saves under the epochs budget: one student on a fraction of digits against one on all.

Each student is a plain :class:`~prunekd.DistillationClassifier` (the sweep's
SmallCNN, Adam, batch 32, alpha 0.5 from an equal-size teacher), trained
``--epochs`` epochs over its kept rows; the two fits alternate, ``--repeats``
times, in one process with one torch thread, and the script prints the ratio
of samples processed and of wall time (best of the repeats, and the median of
the paired ratios).

Usage::

    python benchmarks/bench_budget.py [--fraction 0.1] [--epochs 70] [--repeats 3]
"""

import argparse
import time

import numpy as np
import torch

from prunekd import DistillationClassifier, RandomPruner, take
from prunekd.datasets import load_digits
from prunekd.experiments import split_data
from prunekd.models import SmallCNN


def student(epochs, **kwargs):
    return DistillationClassifier(SmallCNN, module__n_classes=10, optimizer=torch.optim.Adam,
                                  lr=3e-3, batch_size=32, max_epochs=epochs, verbose=0,
                                  random_state=0, **kwargs)  # fmt: skip


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fraction", type=float, default=0.1)
    parser.add_argument("--epochs", type=int, default=70)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    X, _, _, y, _, _ = split_data(*load_digits())
    teacher = student(30, alpha=0.0).fit(X, y)
    kept = RandomPruner(fraction=args.fraction, random_state=0).fit_transform(X, y)
    X_kept, y_kept = take(X, kept), take(y, kept)
    seconds = {"pruned": [], "full": []}
    for _ in range(args.repeats):
        for name, (Xs, ys) in (("pruned", (X_kept, y_kept)), ("full", (X, y))):
            start = time.perf_counter()
            student(args.epochs, teacher=teacher, alpha=0.5).fit(Xs, ys)
            seconds[name].append(time.perf_counter() - start)
    pruned, full = np.array(seconds["pruned"]), np.array(seconds["full"])
    print(f"{len(kept)} of {len(y)} rows (f={args.fraction:g}), {args.epochs} epochs each, "
          f"KD alpha 0.5, one torch thread")  # fmt: skip
    print(f"samples processed, pruned / full: {len(kept) / len(y):.3f}")
    print(f"wall seconds, best of {args.repeats}: pruned {pruned.min():.2f}, full {full.min():.2f}, "
          f"ratio {pruned.min() / full.min():.3f}; median paired ratio "
          f"{np.median(pruned / full):.3f}")  # fmt: skip


if __name__ == "__main__":
    main()
