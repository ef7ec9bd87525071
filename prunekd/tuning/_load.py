"""Your own data from a file: a table (CSV, Parquet) or arrays (.npz), checked before any work."""

from pathlib import Path

import numpy as np
from sklearn.utils.multiclass import type_of_target

TABLE_SUFFIXES = (".csv", ".tsv", ".parquet", ".pq")
ARRAY_SUFFIXES = (".npz",)
# Rows a class needs (recommend asks for one per CV fold and one to hold out).
MIN_PER_CLASS = 1


def _pandas():
    try:
        import pandas as pd
    except ImportError:
        raise ImportError("reading a table needs pandas: pip install 'prunekd[tables]'") from None
    return pd


def _read_table(path):
    pd = _pandas()
    suffix = path.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(path)
        return pd.read_csv(path, sep="\t" if suffix == ".tsv" else ",")
    except ImportError as exc:  # no Parquet engine
        raise ImportError(
            f"reading {path.name} needs a Parquet engine: pip install pyarrow ({exc})"
        )
    except Exception as exc:
        raise ValueError(f"could not read {path} as a {suffix[1:]} table: {exc}") from exc


def _read_arrays(path):
    try:
        data = np.load(path, allow_pickle=False)
        files = data.files
    except Exception as exc:
        raise ValueError(f"could not read {path} as .npz arrays: {exc}") from exc
    with data:
        if not {"X", "y"} <= set(files):
            raise ValueError(f"{path} must hold arrays named X and y; it has {sorted(files)}")
        return data["X"], data["y"]


def load_data(path, target=None):
    """``X`` and ``y`` from a file, with a clear error for anything unusable.

    Parameters
    ----------
    path : str or Path
        A table (``.csv``, ``.tsv``, ``.parquet`` where pandas has an engine),
        or a ``.npz`` file with arrays ``X`` (a table, or images of shape
        ``(n, H, W)`` or ``(n, C, H, W)``) and ``y``.
    target : str or None
        The column of a table that holds the labels; not used for ``.npz``.

    Returns
    -------
    X : DataFrame or ndarray
    y : ndarray of shape (n_samples,)

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from prunekd.tuning import load_data
    >>> path = os.path.join(tempfile.mkdtemp(), "d.npz")
    >>> np.savez(path, X=np.zeros((6, 2)), y=[0, 1] * 3)
    >>> [a.shape for a in load_data(path)]
    [(6, 2), (6,)]
    """
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{path} is a folder, not a file")
    if not path.is_file():
        raise ValueError(f"no such file: {path}")
    suffix = path.suffix.lower()
    if suffix in ARRAY_SUFFIXES:
        if target is not None:
            raise ValueError(f"{path.name} holds its labels as the array y: leave out target=")
        X, y = _read_arrays(path)
    elif suffix in TABLE_SUFFIXES:
        X, y = _split_target(_read_table(path), target, path)
    else:
        raise ValueError(
            f"{path.name}: unknown file type {suffix!r}; use one of "
            f"{', '.join(TABLE_SUFFIXES + ARRAY_SUFFIXES)}"
        )
    return X, check_labels(y, len(X))


def _split_target(frame, target, path):
    if target is None:
        raise ValueError(f"{path.name} is a table: name its label column with target= (--target)")
    if target not in frame.columns:
        columns = ", ".join(map(str, list(frame.columns)[:20]))
        raise ValueError(f"{path.name} has no column {target!r}; its columns: {columns}")
    if frame.shape[1] < 2:
        raise ValueError(f"{path.name} has no feature column besides {target!r}")
    return frame.drop(columns=[target]), frame[target].to_numpy()


def check_labels(y, n_rows, min_per_class=MIN_PER_CLASS):
    """Labels usable for classification: one per row, none missing, every class big enough."""
    y = np.asarray(y)
    if y.ndim != 1 or len(y) != n_rows:
        raise ValueError(f"y must hold one label per row: got shape {y.shape} for {n_rows} rows")
    if n_rows == 0:
        raise ValueError("the data has no rows")
    missing = _is_missing(y)
    if missing.any():
        raise ValueError(
            f"the labels have {int(missing.sum())} missing values; drop those rows or fill them"
        )
    if type_of_target(y) == "continuous":
        raise ValueError(
            f"the labels look like a regression target ({len(np.unique(y))} distinct real "
            "values); prunekd trains classifiers: give class labels"
        )
    classes, counts = np.unique(y, return_counts=True)
    if len(classes) < 2:
        raise ValueError(f"the labels hold a single class ({classes[0]!r}); need at least two")
    rare = classes[counts < min_per_class]
    if len(rare):
        raise ValueError(
            f"the classes {rare.tolist()[:10]} have fewer than {min_per_class} rows, too few to "
            "hold some out and cross-validate; drop or merge them"
        )
    return y


def _is_missing(y):
    if y.dtype.kind == "f":
        return np.isnan(y)
    if y.dtype.kind == "O":
        try:
            import pandas as pd
        except ImportError:
            return np.array([v is None or (isinstance(v, float) and np.isnan(v)) for v in y])
        return np.asarray(pd.isna(y), dtype=bool)  # None, NaN, pd.NA, NaT
    return np.zeros(len(y), dtype=bool)
