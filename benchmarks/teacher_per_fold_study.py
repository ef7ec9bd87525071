"""Does a teacher fitted on all the training rows bias a fraction x alpha search? Ten seeds, both ways.

The README quickstart's search (digits, SmallCNN teacher of 30 epochs and
``RandomPruner`` + SmallCNN student of 150 epochs, fractions 0.1 and 0.3 x
alphas 0, 0.5 and 1, 3 folds), run per seed (its own 70/30 split, seeds and
folds) with:

- shared: the teacher fitted once on all the training rows, which has seen
  every validation fold (the quickstart's shortcut);
- per fold: ``DistillationSearchCV(teacher_per_fold=True)``, a teacher per
  training fold, none of which has seen the fold its students are scored on.

Per seed and way: the alpha chosen at each fraction, the refit's CV score (the
best mean CV accuracy), its held-out test accuracy, and the CV optimism (CV
score minus test accuracy). Printed: the table per seed, then the means with
95% t-intervals over seeds of each way and of the paired difference.

    python benchmarks/teacher_per_fold_study.py [--seeds 10] [--epochs 150] [--jobs 2]
"""

import argparse
import time
import warnings

import numpy as np
import torch
from scipy import stats
from sklearn.base import clone
from sklearn.model_selection import StratifiedKFold, train_test_split

from prunekd import (DistillationClassifier, DistillationSearchCV, RandomPruner,
                     best_alpha_per_fraction, make_pipeline)  # fmt: skip
from prunekd.datasets import load_digits
from prunekd.models import SmallCNN

GRID = {"randompruner__fraction": [0.1, 0.3], "distillationclassifier__alpha": [0.0, 0.5, 1.0]}


def _parse():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=150)
    parser.add_argument("--teacher-epochs", type=int, default=30)
    parser.add_argument("--jobs", type=int, default=2)
    return parser.parse_args()


def _student(seed, **kwargs):
    return DistillationClassifier(SmallCNN, module__n_classes=10, optimizer=torch.optim.Adam,
                                  lr=3e-3, batch_size=32, verbose=0, random_state=seed, **kwargs)  # fmt: skip


def _one_seed(seed, args):
    X, y = load_digits()
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, random_state=seed, stratify=y
    )
    unfitted = _student(seed, alpha=0.0, max_epochs=args.teacher_epochs)
    cv = StratifiedKFold(3, shuffle=True, random_state=seed)
    out = {}
    for way in ("shared", "per fold"):
        per_fold = way == "per fold"
        teacher = unfitted if per_fold else clone(unfitted).fit(X_train, y_train)
        pipe = make_pipeline(RandomPruner(random_state=seed),
                             _student(seed, teacher=teacher, max_epochs=args.epochs))  # fmt: skip
        start = time.perf_counter()
        search = DistillationSearchCV(pipe, GRID, cv=cv, n_jobs=args.jobs,
                                      teacher_per_fold=per_fold).fit(X_train, y_train)  # fmt: skip
        table = best_alpha_per_fraction(search)
        test = search.score(X_test, y_test)
        out[way] = {
            "alphas": dict(zip(table.fraction, table.best_alpha)),
            "cv": search.best_score_,
            "test": test,
            "optimism": search.best_score_ - test,
            "seconds": time.perf_counter() - start,
            "best": search.best_params_,
        }
    return out


def _interval(values, sign=""):
    values = 100 * np.asarray(values, dtype=float)
    half = stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values))
    mean = values.mean()
    return f"{mean:{sign}.2f} [{mean - half:{sign}.2f}, {mean + half:{sign}.2f}]"


def main():
    args = _parse()
    rows = []
    print("seed  way       alpha@0.1  alpha@0.3  CV acc  test acc  optimism  seconds")
    for seed in range(args.seeds):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = _one_seed(seed, args)
        rows.append(result)
        for way, r in result.items():
            print(f"{seed:4d}  {way:8s}  {r['alphas'][0.1]:9.1f}  {r['alphas'][0.3]:9.1f}  "
                  f"{100 * r['cv']:6.2f}  {100 * r['test']:8.2f}  {100 * r['optimism']:+8.2f}  "
                  f"{r['seconds']:7.1f}", flush=True)  # fmt: skip
    print(f"\nMeans over {args.seeds} seeds, accuracy points, 95% t-intervals:")
    for key in ("cv", "test", "optimism"):
        shared = [r["shared"][key] for r in rows]
        per_fold = [r["per fold"][key] for r in rows]
        diff = np.subtract(shared, per_fold)
        sign = "+" if key == "optimism" else ""
        print(f"  {key:9s} shared {_interval(shared, sign)}  per fold {_interval(per_fold, sign)}  "
              f"shared - per fold {_interval(diff, '+')}")  # fmt: skip
    for f in (0.1, 0.3):
        shared = [r["shared"]["alphas"][f] for r in rows]
        per_fold = [r["per fold"]["alphas"][f] for r in rows]
        print(f"  alpha chosen at fraction {f}: shared mean {np.mean(shared):.2f}, per fold mean "
              f"{np.mean(per_fold):.2f}, higher with shared in {np.sum(np.greater(shared, per_fold))} "
              f"seeds, lower in {np.sum(np.less(shared, per_fold))}")  # fmt: skip


if __name__ == "__main__":
    main()
