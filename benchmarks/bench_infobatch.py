"""prunekd's dynamic pruning against InfoBatch's own code: the same scores, both selections.

InfoBatch (a checkout of ``NUS-HPC-AI-Lab/InfoBatch`` at ``--infobatch PATH``;
not a dependency, never copied) runs in a subprocess, since importing it
patches PyTorch's DataLoader iterator. Both sides get the same score vectors:
``--n`` scores per epoch (log-normal, one vector per epoch shared by every
seed, so that a sample's keep probability can be estimated over seeds), for
``--epochs`` epochs and ``--seeds`` seeds. InfoBatch's ``InfoBatch.prune``
(which reseeds numpy's global generator as its sampler does) against
:func:`prunekd.callbacks._dynamic_pruning.epoch_rows` plus the
``torch.randperm`` the student's DataLoader draws to shuffle the kept rows
(InfoBatch shuffles its list itself). Printed: the kept fraction per epoch,
the keep probability of the rows below and above the mean score, the weights,
the selection time per epoch (median) and the ratio prunekd / InfoBatch.
Then the overhead of a whole fit on digits: a ``DistillationClassifier``
with ``DynamicPruning(prune_ratio=0)`` (the same rows, the bookkeeping
only) and with ``prune_ratio=0.5``, against the same fit without the
callback, best of ``--repeats``, in turn.

    python benchmarks/bench_infobatch.py --infobatch PATH [--n 1000000] [--epochs 8] [--seeds 4]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
from scipy.stats import ks_2samp

from prunekd import DistillationClassifier
from prunekd.callbacks import DynamicPruning
from prunekd.callbacks._dynamic_pruning import epoch_rows
from prunekd.datasets import load_digits
from prunekd.experiments import split_data
from prunekd.models import SmallCNN

# Run by the subprocess: InfoBatch's prune step on the stored scores, nothing else of it.
_INFOBATCH = r"""
import json, sys, time
import numpy as np, torch
sys.path.insert(0, sys.argv[1])
from infobatch.infobatch import InfoBatch
folder, n, epochs, seeds, ratio = sys.argv[2], *map(int, sys.argv[3:6]), float(sys.argv[6])
kept, fractions, weights, seconds = np.zeros((epochs, n)), [], set(), []
for seed in range(seeds):
    ib = InfoBatch(range(n), num_epochs=epochs, prune_ratio=ratio)
    for epoch in range(epochs):
        ib.scores = torch.from_numpy(np.load(f"{folder}/scores{epoch}.npy"))
        np.random.seed(1000 * seed + epoch)  # as its sampler reseeds every epoch
        start = time.perf_counter()
        rows = ib.prune()
        seconds.append(time.perf_counter() - start)
        rows = np.asarray(rows)
        kept[epoch, rows] += 1
        fractions.append(len(rows) / n)
        weights.update(np.unique(ib.weights[rows].numpy()).round(6).tolist())
np.save(f"{folder}/infobatch_kept.npy", kept / seeds)
json.dump(dict(fractions=fractions, weights=sorted(weights), seconds=seconds),
          open(f"{folder}/infobatch.json", "w"))
"""


def _parse():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--infobatch", required=True, help="root of a checkout of InfoBatch")
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--ratio", type=float, default=0.5)
    parser.add_argument("--repeats", type=int, default=5)
    return parser.parse_args()


def _prunekd_side(folder, args, seed_base=0):
    kept, fractions, weights, seconds = np.zeros((args.epochs, args.n)), [], set(), []
    for seed in range(args.seeds):
        rng = np.random.default_rng(seed_base + seed)
        for epoch in range(args.epochs):
            scores = np.load(f"{folder}/scores{epoch}.npy").astype(np.float64)
            start = time.perf_counter()
            rows, w = epoch_rows(scores, args.ratio, rng)
            torch.randperm(len(rows))  # the DataLoader's shuffle of the kept rows
            seconds.append(time.perf_counter() - start)
            kept[epoch, rows] += 1
            fractions.append(len(rows) / args.n)
            weights.update(np.unique(w).round(6).tolist())
    return kept / args.seeds, dict(fractions=fractions, weights=sorted(weights), seconds=seconds)


def _keep_probabilities(kept, folder, epochs):
    """Mean keep probability of the rows below the mean score, and of the others."""
    below, above = [], []
    for epoch in range(epochs):
        scores = np.load(f"{folder}/scores{epoch}.npy")
        well = scores < scores.mean()
        below.append(kept[epoch, well].mean())
        above.append(kept[epoch, ~well].mean())
    return float(np.mean(below)), float(np.mean(above))


def _selection_report(args, folder):
    command = [sys.executable, "-c", _INFOBATCH, args.infobatch, folder, str(args.n),
               str(args.epochs), str(args.seeds), str(args.ratio)]  # fmt: skip
    subprocess.run(command, check=True)
    theirs = json.load(open(f"{folder}/infobatch.json"))
    their_kept = np.load(f"{folder}/infobatch_kept.npy")
    our_kept, ours = _prunekd_side(folder, args)
    print(f"{args.n:,} scores, {args.epochs} epochs x {args.seeds} seeds, prune_ratio {args.ratio}")
    for name, result, kept in (("InfoBatch", theirs, their_kept), ("prunekd", ours, our_kept)):
        below, above = _keep_probabilities(kept, folder, args.epochs)
        print(f"{name:9s}: kept fraction {np.mean(result['fractions']):.4f} "
              f"[{min(result['fractions']):.4f}, {max(result['fractions']):.4f}], keep probability "
              f"below the mean {below:.4f}, above {above:.4f}, weights {result['weights']}, "
              f"selection {1000 * np.median(result['seconds']):.1f} ms/epoch")  # fmt: skip
    # A sample's keep frequency over seeds and epochs: against InfoBatch, and against prunekd
    # with other seeds (the floor that sampling alone gives).
    floor_kept, _ = _prunekd_side(folder, args, seed_base=10_000)
    for name, other in (("InfoBatch", their_kept), ("prunekd, other seeds (floor)", floor_kept)):
        gap = np.abs(our_kept.mean(0) - other.mean(0))
        ks = ks_2samp(our_kept.mean(0), other.mean(0)).statistic
        print(f"per-sample keep frequency, prunekd vs {name}: mean |difference| {gap.mean():.4f}, "
              f"KS distance of the distributions {ks:.4f}")  # fmt: skip
    ratio = np.median(ours["seconds"]) / np.median(theirs["seconds"])
    print(f"selection time prunekd / InfoBatch: {ratio:.2f}")


def _fit_overhead(repeats):
    torch.set_num_threads(1)
    X_train, X_val, X_test, y_train, y_val, y_test = split_data(*load_digits())
    kwargs = dict(module__n_classes=10, max_epochs=20, lr=3e-3, optimizer=torch.optim.Adam,
                  batch_size=32, verbose=0, random_state=0)  # fmt: skip
    teacher = DistillationClassifier(SmallCNN, alpha=0.0, **kwargs).fit(X_train, y_train)
    ways = {"no callback": None, "prune_ratio=0": 0.0, "prune_ratio=0.5": 0.5}
    times = {way: [] for way in ways}
    fitted = {}
    for _ in range(repeats):
        for way, ratio in ways.items():
            callbacks = None if ratio is None else [DynamicPruning(ratio, random_state=0)]
            student = DistillationClassifier(SmallCNN, teacher=teacher, alpha=0.5,
                                             callbacks=callbacks, **kwargs)  # fmt: skip
            start = time.perf_counter()
            fitted[way] = student.fit(X_train, y_train)
            times[way].append(time.perf_counter() - start)
    base = min(times["no callback"])
    print(f"digits, SmallCNN student (alpha 0.5), 20 epochs, one thread, best of {repeats}:")
    for way in ways:
        processed = 1.0
        if ways[way] is not None:
            prune = [cb for _, cb in fitted[way].callbacks_ if isinstance(cb, DynamicPruning)]
            processed = prune[0].fraction_processed_
        print(f"  {way:15s} {min(times[way]):.2f} s (x{min(times[way]) / base:.3f}), rows "
              f"processed x{processed:.3f}, test accuracy {fitted[way].score(X_test, y_test):.4f}")


def main():
    args = _parse()
    with tempfile.TemporaryDirectory() as folder:
        rng = np.random.default_rng(0)
        for epoch in range(args.epochs):
            np.save(os.path.join(folder, f"scores{epoch}.npy"),
                    rng.lognormal(size=args.n).astype(np.float32))  # fmt: skip
        _selection_report(args, folder)
    _fit_overhead(args.repeats)


if __name__ == "__main__":
    main()
