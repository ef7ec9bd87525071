"""How many epochs the sweep's networks need: the rule that fixes the students' and teachers' epochs.

A full-data network without KD (the sweep's network, at ``--width``: the
student's 16, or a teacher's 4 or 64, and the sweep's optimiser) is trained
for ``--max-epochs`` epochs on each exploratory seed, with that seed's own
train/validation split, and its validation accuracy is recorded after every
epoch. With a constant learning rate and no schedule, the weights after ``e``
epochs of this run are those of a run stopped at ``e``, so one run per seed
gives the whole curve.

The rule, fixed before the curve was drawn: smooth the mean curve over seeds
with a trailing mean of 5 epochs; E is the smallest multiple of 10 after which
no later multiple of 10 raises the smoothed validation accuracy by 0.2 points
or more.

The students' epochs come from the student's width, each teacher's from its
own width, on each dataset: the same rule on every curve.

Usage::

    python benchmarks/epoch_curve.py --seeds 0,1,2,3,4 --max-epochs 150 --jobs 2
    python benchmarks/epoch_curve.py --dataset mnist1d --width 64 --json curve.json
"""

import argparse
import json
import time

import numpy as np
import torch
from joblib import Parallel, delayed
from skorch.callbacks import Callback

from prunekd import DistillationClassifier
from prunekd.experiments import SweepConfig, split_data
from prunekd.experiments._data import load_dataset, make_module

WINDOW, STEP, RISE = 5, 10, 0.2


class _ValAccuracy(Callback):
    def __init__(self, X, y):
        self.X, self.y = X, y

    def on_epoch_end(self, net, **kwargs):
        net.history.record("val_acc", float((net.predict(self.X) == self.y).mean()))


def curve(seed, max_epochs, dataset="digits", width=None):
    torch.set_num_threads(1)
    config = SweepConfig(dataset=dataset)
    X, y = load_dataset(dataset)
    X_train, X_val, _, y_train, y_val, _ = split_data(X, y, seed=seed)
    module, kwargs = make_module(config.model, 10, X.shape[1:], width or config.width)
    net = DistillationClassifier(
        module, alpha=0.0, optimizer=torch.optim.Adam, lr=config.lr,
        batch_size=config.batch_size, max_epochs=max_epochs, random_state=seed, verbose=0,
        callbacks=[("val_acc", _ValAccuracy(X_val, y_val))], **kwargs,
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
    p.add_argument("--dataset", default="digits", choices=("digits", "mnist1d"))
    p.add_argument("--width", type=int, default=None, help="network width (default: the student's)")
    p.add_argument("--json", default=None, help="also write the curves here")
    args = p.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    runs = Parallel(n_jobs=args.jobs)(
        delayed(curve)(s, args.max_epochs, args.dataset, args.width) for s in seeds
    )
    curves = np.array([c for c, _ in runs])
    epochs, smooth = choose_epochs(curves.mean(0))
    width = args.width or SweepConfig().width
    print(f"{args.dataset}, width {width}; seeds {seeds}; seconds per run: "
          f"{', '.join(f'{t:.0f}' for _, t in runs)}")  # fmt: skip
    print("epoch  smoothed mean validation accuracy (%)")
    for e, v in smooth.items():
        print(f"{e:5d}  {100 * v:.2f}")
    print(f"E = {epochs} (first multiple of {STEP} after which no later one gains {RISE} points)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"dataset": args.dataset, "width": width, "seeds": seeds,
                       "curves": curves.tolist(), "epochs": epochs}, f)  # fmt: skip


if __name__ == "__main__":
    main()
