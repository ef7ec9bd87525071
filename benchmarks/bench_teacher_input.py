"""teacher_input="auto" against "raw" and "transformed": a raw-fitted teacher behind a scaler.

Two tabular sets that ship with scikit-learn, a gradient-boosting teacher fitted
on the raw training features, an MLP student behind a StandardScaler, random
pruning to f=0.2, 4 seeds (each its own split). Prints test accuracy per mode
and the paired difference auto - raw with a t interval over seeds.

    python benchmarks/bench_teacher_input.py
"""

import warnings

import numpy as np
from scipy import stats
from sklearn.datasets import load_breast_cancer, load_wine
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from prunekd import DistillationClassifier, RandomPruner, make_pipeline
from prunekd.models import MLP

MODES = ("transformed", "raw", "auto")
SEEDS = range(4)


def _accuracy(X, y, seed, mode):
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, stratify=y, random_state=seed)
    teacher = HistGradientBoostingClassifier(random_state=seed).fit(X_tr, y_tr)
    student = DistillationClassifier(MLP, module__hidden=(64,), teacher=teacher, alpha=0.5,
                                     max_epochs=100, lr=3e-3, batch_size=16, verbose=0,
                                     random_state=seed)  # fmt: skip
    pipe = make_pipeline(RandomPruner(fraction=0.2, random_state=seed), StandardScaler(),
                         student, teacher_input=mode)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the lost-teacher warning of "transformed"
        pipe.fit(X_tr.astype("float32"), y_tr)
    return 100 * pipe.score(X_te.astype("float32"), y_te), pipe.teacher_input_


def main():
    import torch

    torch.set_num_threads(1)
    for name, load in (("breast_cancer", load_breast_cancer), ("wine", load_wine)):
        X, y = load(return_X_y=True)
        acc = {m: [] for m in MODES}
        chosen = []
        for seed in SEEDS:
            for mode in MODES:
                score, used = _accuracy(X, y, seed, mode)
                acc[mode].append(score)
                if mode == "auto":
                    chosen.append(used)
        means = "  ".join(f"{m} {np.mean(acc[m]):.1f}" for m in MODES)
        diff = np.subtract(acc["auto"], acc["raw"])
        half = stats.t.ppf(0.975, len(diff) - 1) * diff.std(ddof=1) / np.sqrt(len(diff))
        print(f"{name}: {means}  | auto chose {sorted(set(chosen))} | auto - raw "
              f"{diff.mean():+.2f} [{diff.mean() - half:+.2f}, {diff.mean() + half:+.2f}]")


if __name__ == "__main__":
    main()
