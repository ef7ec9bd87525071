"""How many epochs the sweep's students need: the rule that fixes ``SweepConfig.epochs``.

A full-data student without KD (the sweep's network and optimiser) is trained
for ``--max-epochs`` epochs on each exploratory seed, with that seed's own
train/validation split, and its validation accuracy is recorded after every
epoch. With a constant learning rate and no schedule, the weights after ``e``
epochs of this run are those of a run stopped at ``e``, so one run per seed
gives the whole curve.

The rule, fixed before the curve was drawn: smooth the mean curve over seeds
with a trailing mean of 5 epochs; E is the smallest multiple of 10 after which
no later multiple of 10 raises the smoothed validation accuracy by 0.2 points
or more.

Usage::

    python benchmarks/epoch_curve.py --seeds 0,1,2,3,4 --max-epochs 150 --jobs 2
"""

import argparse
import json
import time

import numpy as np
import torch
from joblib import Parallel, delayed
from skorch.callbacks import Callback

from prunekd import DistillationClassifier
from prunekd.datasets import load_digits
from prunekd.experiments import SweepConfig, split_data
from prunekd.models import SmallCNN

WINDOW, STEP, RISE = 5, 10, 0.2


class _ValAccuracy(Callback):
    def __init__(self, X, y):
        self.X, self.y = X, y

    def on_epoch_end(self, net, **kwargs):
        net.history.record("val_acc", float((net.predict(self.X) == self.y).mean()))


def curve(seed, max_epochs):
    torch.set_num_threads(1)
    config = SweepConfig()
    X, y = load_digits()
    X_train, X_val, _, y_train, y_val, _ = split_data(X, y, seed=seed)
    net = DistillationClassifier(
        SmallCNN, alpha=0.0, module__n_classes=10, module__in_channels=1,
        module__width=config.width, optimizer=torch.optim.Adam, lr=config.lr,
        batch_size=config.batch_size, max_epochs=max_epochs, random_state=seed, verbose=0,
        callbacks=[("val_acc", _ValAccuracy(X_val, y_val))],
    )  # fmt: skip
    start = time.perf_counter()
    net.fit(X_train, y_train)
    return net.history[:, "val_acc"], time.perf_counter() - start


def choose_epochs(mean_curve):
    """E by the rule of this script's docstring; ``mean_curve[e - 1]`` is epoch ``e``."""
    acc = np.asarray(mean_curve)
    smooth = {e: acc[max(0, e - WINDOW) : e].mean() for e in range(STEP, len(acc) + 1, STEP)}
    for e in sorted(smooth):
        later = [smooth[x] for x in smooth if x > e]
        if later and 100 * (max(later) - smooth[e]) < RISE:
            return e, smooth
    return None, smooth


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", default="0,1,2,3,4")
    p.add_argument("--max-epochs", type=int, default=150)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--json", default=None, help="also write the curves here")
    args = p.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    runs = Parallel(n_jobs=args.jobs)(delayed(curve)(s, args.max_epochs) for s in seeds)
    curves = np.array([c for c, _ in runs])
    epochs, smooth = choose_epochs(curves.mean(0))
    print(f"seeds {seeds}; seconds per run: {', '.join(f'{t:.0f}' for _, t in runs)}")
    print("epoch  smoothed mean validation accuracy (%)")
    for e, v in smooth.items():
        print(f"{e:5d}  {100 * v:.2f}")
    print(f"E = {epochs} (first multiple of {STEP} after which no later one gains {RISE} points)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"seeds": seeds, "curves": curves.tolist(), "epochs": epochs}, f)


if __name__ == "__main__":
    main()
