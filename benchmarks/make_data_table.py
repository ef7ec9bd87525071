"""Write the 10,000-row table that ``prunekd --data`` is benchmarked on.

Twenty numeric columns (eight informative, 2% of the labels flipped), four
classes, one categorical column that carries part of the signal, and 1% of the
numeric values missing: what the own-data job's preprocessing (imputation,
standardisation, one-hot encoding) is for. Deterministic: the same file on
every machine.

    python benchmarks/make_data_table.py [--rows 10000] [--out table.csv]
    prunekd --data table.csv --target label --jobs 2
"""

import argparse

import numpy as np
import pandas as pd
from sklearn.datasets import make_classification


def make_table(rows=10_000, seed=0):
    """The benchmark table as a DataFrame: columns ``x0``..``x19``, ``colour`` and ``label``."""
    X, y = make_classification(rows, 20, n_informative=8, n_redundant=4, n_classes=4,
                               flip_y=0.02, class_sep=0.8, random_state=seed)  # fmt: skip
    rng = np.random.RandomState(seed)
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(20)])
    frame[frame.columns] = frame.mask(rng.rand(*frame.shape) < 0.01)
    colours = np.array(["red", "green", "blue", "grey"])
    # the class's colour two times out of three, else any colour
    frame["colour"] = np.where(rng.rand(rows) < 2 / 3, colours[y], colours[rng.randint(4, size=rows)])
    frame["label"] = np.array(["a", "b", "c", "d"])[y]
    return frame


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--out", default="table.csv")
    args = parser.parse_args()
    make_table(args.rows).to_csv(args.out, index=False)
    print(f"wrote {args.out}: {args.rows} rows")


if __name__ == "__main__":
    main()
