"""Wall time of a fraction x alpha search: GridSearchCV against DistillationSearchCV's vectorised groups.

The workload is the README quickstart's: digits, a 30% test split, a SmallCNN
teacher fitted on the training rows, and a ``RandomPruner`` + SmallCNN student
(Adam, lr 3e-3, batches of 32, ``--epochs`` epochs over its kept rows). Two
grids:

- quickstart: fractions (0.1, 0.3) x alphas (0, 0.5, 1) x 3 folds;
- large: fractions (0.1, 0.2, 0.3, 0.5) x alphas (0, 0.3, 0.6, 0.9) x 5 folds.

Contenders, run in this one process one after another, in alternating order
from repeat to repeat, the refit included: ``GridSearchCV(n_jobs=1)``,
``GridSearchCV(n_jobs=2)``, and ``DistillationSearchCV`` with ``n_jobs=1`` and
``2``. The torch threads of this process and of the worker processes are
printed.

Tolerance, stated before any run: a grouped member differs from a separate fit
in the last bits of its weights, which training can grow into a few flipped
validation predictions. The searches agree if the largest difference in mean
CV accuracy over the grid is at most TOLERANCE (0.01, one point) and the
winners are the same, or tie: GridSearchCV's mean score of the grouped
search's winner is within TOLERANCE of its own best.

    python benchmarks/bench_search.py [--grid both] [--epochs 150] [--repeats 1]
"""

import argparse
import time
import warnings

import numpy as np
import torch
from joblib import Parallel, delayed
from sklearn.model_selection import GridSearchCV, StratifiedKFold, train_test_split

from prunekd import DistillationClassifier, DistillationSearchCV, RandomPruner, make_pipeline
from prunekd.datasets import load_digits
from prunekd.models import SmallCNN

TOLERANCE = 0.01
GRIDS = {
    "quickstart": ((0.1, 0.3), (0.0, 0.5, 1.0), 3),
    "large": ((0.1, 0.2, 0.3, 0.5), (0.0, 0.3, 0.6, 0.9), 5),
}


def _parse():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--grid", choices=[*GRIDS, "both"], default="both")
    parser.add_argument("--epochs", type=int, default=150)
    parser.add_argument("--repeats", type=int, default=1)
    return parser.parse_args()


def _student(**kwargs):
    return DistillationClassifier(SmallCNN, module__n_classes=10, optimizer=torch.optim.Adam,
                                  lr=3e-3, batch_size=32, verbose=0, random_state=0, **kwargs)  # fmt: skip


def _contenders(pipe, grid, folds):
    cv = StratifiedKFold(folds, shuffle=True, random_state=0)
    # in this order, GridSearchCV and the grouped search alternating (reversed on odd repeats)
    return {
        "GridSearchCV n_jobs=1": lambda: GridSearchCV(pipe, grid, cv=cv, n_jobs=1),
        "DistillationSearchCV n_jobs=1": lambda: DistillationSearchCV(pipe, grid, cv=cv, n_jobs=1),
        "GridSearchCV n_jobs=2": lambda: GridSearchCV(pipe, grid, cv=cv, n_jobs=2),
        "DistillationSearchCV n_jobs=2": lambda: DistillationSearchCV(pipe, grid, cv=cv, n_jobs=2),
    }


def _agreement(ours, theirs):
    """Largest |mean CV accuracy difference|, and whether the winners agree within TOLERANCE."""
    diff = np.abs(ours.cv_results_["mean_test_score"] - theirs.cv_results_["mean_test_score"])
    scores = theirs.cv_results_["mean_test_score"]
    tie = scores.max() - scores[ours.best_index_] <= TOLERANCE
    same = ours.best_params_ == theirs.best_params_
    return diff.max(), same, tie


def _run_grid(name, X, y, teacher, args):
    fractions, alphas, folds = GRIDS[name]
    grid = {"randompruner__fraction": list(fractions), "distillationclassifier__alpha": list(alphas)}
    pipe = make_pipeline(RandomPruner(random_state=0), _student(teacher=teacher, max_epochs=args.epochs))
    contenders = _contenders(pipe, grid, folds)
    print(f"\n{name} grid: {len(fractions)} fractions x {len(alphas)} alphas x {folds} folds, "
          f"{args.epochs} epochs per fit, refit included")  # fmt: skip
    seconds, fitted = {k: [] for k in contenders}, {}
    for repeat in range(args.repeats):
        order = list(contenders) if repeat % 2 == 0 else list(contenders)[::-1]
        for label in order:
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fitted[label] = contenders[label]().fit(X, y)
            seconds[label].append(time.perf_counter() - start)
            print(f"  {label:30s} {seconds[label][-1]:7.1f} s", flush=True)
    best = {k: min(v) for k, v in seconds.items()}
    ours = min(best["DistillationSearchCV n_jobs=1"], best["DistillationSearchCV n_jobs=2"])
    for label in ("GridSearchCV n_jobs=1", "GridSearchCV n_jobs=2"):
        print(f"  {label} / best DistillationSearchCV: {best[label] / ours:.2f}x")
    for label in ("DistillationSearchCV n_jobs=1", "DistillationSearchCV n_jobs=2"):
        largest, same, tie = _agreement(fitted[label], fitted["GridSearchCV n_jobs=1"])
        print(f"  {label} vs GridSearchCV n_jobs=1: largest mean CV difference {largest:.4f} "
              f"(tolerance {TOLERANCE}); same winner: {same}; winners tie within the "
              f"tolerance: {tie}; grouped {fitted[label].grouped_.sum()}/{len(fitted[label].grouped_)}")  # fmt: skip


def main():
    args = _parse()
    X, y = load_digits()
    X_train, _, y_train, _ = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
    workers = Parallel(n_jobs=2)(delayed(torch.get_num_threads)() for _ in range(2))
    print(f"torch threads: this process {torch.get_num_threads()}, worker processes {workers}")
    teacher = _student(alpha=0.0, max_epochs=30).fit(X_train, y_train)
    for name in GRIDS if args.grid == "both" else [args.grid]:
        _run_grid(name, X_train, y_train, teacher, args)


if __name__ == "__main__":
    main()
