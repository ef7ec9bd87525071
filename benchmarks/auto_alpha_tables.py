"""``alpha="auto"`` on data it was not fitted on: two generated tables, through the --data models.

The knots of ``alpha="auto"`` were fitted on digits sweeps (CNN and MLP
students, clean and noisy labels). This script measures the rule where it
never looked: two tables written to CSV and read back by
``prunekd.tuning.load_data``, with the models of ``prunekd --data`` (a
gradient-boosting teacher on the raw columns, an MLP student behind the
table preprocessing), random pruning, every student 30 epochs over its kept
rows. Each seed has its own train/test split and its own teacher. Rows are
written in the sweep's format, one file per table, for ``docs/make_results.py``
(the regret of the rule and of fixed alphas, ``prunekd.experiments.alpha_regret``).

    python benchmarks/auto_alpha_tables.py --out docs/results/tables
"""

import argparse
import csv
import os
import tempfile

import numpy as np
from joblib import Parallel, delayed
from sklearn.datasets import make_classification
from sklearn.model_selection import train_test_split

from prunekd import take
from prunekd.tuning import load_data
from prunekd.tuning._build import prepare

FRACTIONS = (0.1, 0.2, 0.3, 0.5, 1.0)
ALPHAS = (0.0, 0.25, 0.5, 1.0)  # the sweep's KD alphas, and no KD
SEEDS = range(5)
N_ROWS = 6000


def numeric_table(seed=0):
    """20 numeric columns, 4 classes, 2% of the labels flipped."""
    X, y = make_classification(N_ROWS, 20, n_informative=8, n_classes=4, flip_y=0.02,
                               class_sep=1.0, random_state=seed)  # fmt: skip
    import pandas as pd

    return pd.DataFrame(X, columns=[f"x{i}" for i in range(20)]).assign(label=y)


def mixed_table(seed=0):
    """Numbers with gaps and text categories; a label from a noisy score of them."""
    import pandas as pd

    rng = np.random.RandomState(seed)
    frame = pd.DataFrame({
        "age": rng.randint(18, 80, N_ROWS).astype(float),
        "spend": rng.gamma(2.0, 30.0, N_ROWS),
        "visits": rng.poisson(4, N_ROWS).astype(float),
        "plan": rng.choice(["basic", "plus", "family"], N_ROWS, p=[0.5, 0.3, 0.2]),
        "region": rng.choice(["north", "south", "east", "west"], N_ROWS),
    })  # fmt: skip
    frame.loc[rng.rand(N_ROWS) < 0.08, "spend"] = np.nan
    score = (0.03 * (50 - frame["age"]) + 0.02 * frame["spend"].fillna(60)
             - 0.2 * frame["visits"] + (frame["plan"] == "basic") * 1.2
             - (frame["region"] == "north") * 0.8 + rng.logistic(scale=0.4, size=N_ROWS))  # fmt: skip
    return frame.assign(label=np.digitize(score, np.quantile(score, [0.33, 0.66])))


TABLES = {"numeric": numeric_table, "mixed": mixed_table}


def _one_seed(X, y, seed):
    import torch

    torch.set_num_threads(1)
    X, teacher, build = prepare(X, y, seed, None)
    tr, te = train_test_split(np.arange(len(y)), test_size=0.2, stratify=y, random_state=seed)
    X_tr, X_te, y_tr, y_te = take(X, tr), take(X, te), y[tr], y[te]
    teacher.fit(X_tr, y_tr)
    rows = []
    for f in FRACTIONS:
        for a in ALPHAS:
            pipe = build(teacher)
            pipe.set_params(**{f"{pipe.steps[-2][0]}__fraction": f,
                               f"{pipe.steps[-1][0]}__alpha": a})  # fmt: skip
            acc = float(pipe.fit(X_tr, y_tr).score(X_te, y_te))
            rows.append(dict(study="main", pruner="random", fraction=f, alpha=a, seed=seed,
                             teacher="equal" if a else "none", val_accuracy=acc,
                             test_accuracy=acc))  # fmt: skip
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="auto-alpha-tables")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    for name, make in TABLES.items():
        path = os.path.join(tempfile.mkdtemp(), f"{name}.csv")
        make().to_csv(path, index=False)
        X, y = load_data(path, "label")  # the --data path
        per_seed = Parallel(n_jobs=args.jobs)(delayed(_one_seed)(X, y, s) for s in SEEDS)
        rows = [row for seed_rows in per_seed for row in seed_rows]
        with open(os.path.join(args.out, f"{name}.csv"), "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        print(f"{name}: {len(rows)} rows written to {args.out}/{name}.csv")


if __name__ == "__main__":
    main()
