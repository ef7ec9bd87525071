"""Dynamic pruning on digits: what a student processes, and its accuracy beside a full-data fit.

For each seed (its own split, teacher and students): a SmallCNN teacher on the
full training split, then two students distilled from it (alpha 0.5, the same
epochs): one on every row, one with ``DynamicPruning(prune_ratio)``. Printed:
the rows each processed (relative to the full fit), test accuracy, and the
paired difference dynamic - full with a 95% t-interval over seeds. A
description, not a verdict: no protocol is fixed for it.

    python benchmarks/dynamic_digits.py [--seeds 0,1,2,3,4] [--epochs 30] [--prune-ratio 0.5]
"""

import argparse
import time

import numpy as np
import torch

from prunekd import DistillationClassifier
from prunekd.callbacks import DynamicPruning
from prunekd.datasets import load_digits
from prunekd.experiments import split_data, t_interval
from prunekd.models import SmallCNN


def _parse():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", default="0,1,2,3,4")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--prune-ratio", type=float, default=0.5)
    return parser.parse_args()


def _seed_run(seed, args):
    X_train, _, X_test, y_train, _, y_test = split_data(*load_digits(), seed=seed)
    kwargs = dict(module__n_classes=10, max_epochs=args.epochs, lr=3e-3, batch_size=32,
                  optimizer=torch.optim.Adam, verbose=0, random_state=seed)  # fmt: skip
    teacher = DistillationClassifier(SmallCNN, alpha=0.0, **kwargs).fit(X_train, y_train)
    prune = DynamicPruning(prune_ratio=args.prune_ratio, random_state=seed)
    out = {}
    for name, callbacks in (("full", None), ("dynamic", [prune])):
        start = time.perf_counter()
        student = DistillationClassifier(SmallCNN, teacher=teacher, alpha=0.5,
                                         callbacks=callbacks, **kwargs).fit(X_train, y_train)  # fmt: skip
        out[name] = (student.score(X_test, y_test), time.perf_counter() - start)
    return out, prune.fraction_processed_


def main():
    args = _parse()
    torch.set_num_threads(1)
    seeds = [int(s) for s in args.seeds.split(",")]
    full, dynamic, processed, seconds = [], [], [], []
    for seed in seeds:
        out, fraction = _seed_run(seed, args)
        full.append(out["full"][0])
        dynamic.append(out["dynamic"][0])
        processed.append(fraction)
        seconds.append(out["dynamic"][1] / out["full"][1])
        print(f"seed {seed}: full {100 * out['full'][0]:.1f}%, dynamic {100 * out['dynamic'][0]:.1f}% "
              f"with x{fraction:.3f} of the rows processed (time x{seconds[-1]:.2f})")  # fmt: skip
    mean, low, high = (100 * v for v in t_interval(np.array(dynamic) - np.array(full)))
    print(f"{len(seeds)} seeds, {args.epochs} epochs, prune_ratio {args.prune_ratio}: full "
          f"{100 * np.mean(full):.1f}%, dynamic {100 * np.mean(dynamic):.1f}% at x"
          f"{np.mean(processed):.3f} of the rows (wall time x{np.mean(seconds):.2f}); dynamic - "
          f"full {mean:+.1f} [{low:+.1f}, {high:+.1f}] points (95% t-interval)")  # fmt: skip


if __name__ == "__main__":
    main()
