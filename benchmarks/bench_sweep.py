"""Students per second of the ``prunekd`` sweep: one fit per student vs one vectorised group.

The workload is one (fraction, seed) group of the default sweep on digits: for
each of 4 kept subsets (one per pruner), the 5 alphas of the default grid, plus
2 capacity-study teachers, 22 students, every one trained for ``--steps``
Adam steps. "Before" fits them one by one as ``DistillationClassifier``
(how the sweep trained until it grouped students); "after" trains them as one
vmapped ``_StudentGroup``, as the sweep does now. Both run here, side by side,
on one torch thread (as every sweep process does), and the accuracies of the
two ways are compared.

    python benchmarks/bench_sweep.py [--steps 800] [--fraction 0.1] [--repeats 1]

With ``--before TREE`` (the root of a checkout of another revision, e.g.
``git worktree add /tmp/before REV``), "before" is that revision's group
trainer instead, on the same members, interleaved with this tree's: the ratio
is this tree's students per second over the other's.
"""

import argparse
import importlib
import time

import numpy as np
import torch

from prunekd import DistillationClassifier, RandomPruner
from prunekd.datasets import load_digits
from prunekd.distillation._losses import teacher_log_probs
from prunekd.distillation._teacher import make_teacher
from prunekd.experiments import SweepConfig, split_data
from prunekd.distillation._group import _StudentGroup
from prunekd.experiments._config import epochs_for as _epochs_for
from prunekd.models import SmallCNN

ALPHAS = (0.0, 0.25, 0.5, 0.75, 1.0)


def _parse():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=800)
    parser.add_argument("--fraction", type=float, default=0.1)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--before", help="root of a checkout whose group trainer is 'before'")
    return parser.parse_args()


def _setting(args, kwargs, X_train, y_train):
    """Teachers, their log-probabilities, and the members: (subset, alpha, teacher name)."""
    teachers = {name: DistillationClassifier(SmallCNN, module__width=w, alpha=0.0, max_epochs=5,
                                             random_state=0, **kwargs).fit(X_train, y_train)
                for name, w in (("equal", 16), ("small", 4), ("large", 64))}  # fmt: skip
    log_p = np.stack([teacher_log_probs(make_teacher(t).logits_array(X_train, 1024), 4.0).numpy()
                      for t in teachers.values()])  # fmt: skip
    # 4 subsets standing for the 4 pruners, 5 alphas each, 2 capacity teachers on the first.
    subsets = [RandomPruner(fraction=args.fraction, random_state=s).fit_transform(X_train, y_train)
               for s in range(4)]  # fmt: skip
    members = [(i, a, "equal" if a else None) for i in range(4) for a in ALPHAS]
    members += [(0, 0.5, "small"), (0, 0.5, "large")]
    return teachers, log_p, subsets, members


def main():
    args = _parse()
    torch.set_num_threads(1)
    X_train, X_val, X_test, y_train, y_val, y_test = split_data(*load_digits())
    config = SweepConfig(budget="steps", steps=args.steps)
    kwargs = dict(module__n_classes=10, optimizer=torch.optim.Adam, lr=config.lr,
                  batch_size=config.batch_size, verbose=0)  # fmt: skip
    teachers, log_p, subsets, members = _setting(args, kwargs, X_train, y_train)
    names, rows = list(teachers), np.stack([subsets[i] for i, _, _ in members])
    epochs = _epochs_for(rows.shape[1], config)
    print(f"{len(members)} students of {rows.shape[1]} rows, {epochs} epochs "
          f"(~{args.steps} steps) each, one torch thread")  # fmt: skip

    def group_of(trainer):
        def run():
            group = trainer(
                SmallCNN, alphas=[a for _, a, _ in members],
                teachers=[names.index(t) if t else -1 for _, _, t in members],
                max_epochs=epochs, random_state=0, **kwargs,
            ).fit(X_train, y_train, rows, log_p)  # fmt: skip
            return np.array(group.member_correct(X_test, y_test)) / len(y_test)

        return run

    def before():
        return np.array([DistillationClassifier(
            SmallCNN, alpha=alpha, teacher=teachers[teacher] if teacher else None,
            max_epochs=epochs, random_state=0, **kwargs,
        ).fit(X_train[subsets[i]], y_train[subsets[i]]).score(X_test, y_test)
            for i, alpha, teacher in members])  # fmt: skip

    after_one = _StudentGroup(SmallCNN, alphas=[0.0, 0.5], teachers=[-1, 0], max_epochs=1,
                              random_state=0, **kwargs)  # fmt: skip
    after_one.fit(X_train, y_train, rows[:2], log_p)  # vmap's one-time set-up, out of the timing
    if args.before:
        runs, words = [group_of(_other_group(args.before)), group_of(_StudentGroup)], _REVISIONS
    else:
        runs, words = [before, group_of(_StudentGroup)], _WAYS
    _report(len(members), runs, args.repeats, words)


_WAYS = ("before (one fit per student):  ", "after  (one vectorised group): ")
_REVISIONS = ("before (the other revision):   ", "after  (this tree):            ")


def _other_group(tree):
    """The group trainer of the checkout ``tree``, wherever that revision keeps it."""
    from bench_versions import import_as

    other = import_as(tree, "prunekd_before")
    for module in ("distillation._group", "experiments._group"):
        try:
            return importlib.import_module(f"prunekd_before.{module}")._StudentGroup
        except ModuleNotFoundError:
            continue
    raise SystemExit(f"no group trainer in {other.__file__}")


def _report(n_members, runs, repeats, words):
    times, accuracy = [[], []], [None, None]
    for r in range(repeats):
        for k in (0, 1) if r % 2 == 0 else (1, 0):  # alternate which runs first
            start = time.perf_counter()
            accuracy[k] = runs[k]()
            times[k].append(time.perf_counter() - start)
    (rate_before, rate_after), (acc_before, acc_after) = [n_members / min(t) for t in times], accuracy
    print(f"{words[0]} {rate_before:.2f} students/s  ({min(times[0]):.1f} s)")
    print(f"{words[1]} {rate_after:.2f} students/s  ({min(times[1]):.1f} s)")
    paired = np.array(times[0]) / np.array(times[1])
    print(f"speed-up: {rate_after / rate_before:.2f}x (best of {repeats}); paired per round: "
          f"median {np.median(paired):.3f}, quartiles {np.percentile(paired, 25):.3f}-"
          f"{np.percentile(paired, 75):.3f}")  # fmt: skip
    print(f"test accuracy, mean over students: before {100 * acc_before.mean():.2f}%, "
          f"after {100 * acc_after.mean():.2f}%; largest difference of one student "
          f"{100 * np.abs(acc_before - acc_after).max():.2f} points")  # fmt: skip


if __name__ == "__main__":
    main()
