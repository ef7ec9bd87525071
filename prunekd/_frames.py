"""Rows for a scikit-learn estimator in the form it was fitted on.

prunekd trains torch students on float arrays, so a pandas DataFrame becomes
an array on its way in. A scikit-learn estimator fitted on a DataFrame (a
teacher, an embedding) then warns "X does not have valid feature names" on
every call, and one fitted on mixed column types cannot read an array at all.
"""

import numpy as np
import torch

from ._compat import _safe_indexing


def for_estimator(estimator, X):
    """``X`` as ``estimator`` reads it: a DataFrame with its feature names if it was fitted on one.

    DataFrames pass unchanged; a 2-D array as wide as the estimator's
    ``feature_names_in_`` gets those names back; images are flattened.
    """
    if isinstance(X, torch.Tensor):
        X = X.detach().cpu().numpy()
    if hasattr(X, "iloc"):
        return X
    X = np.asarray(X)
    if X.ndim > 2:  # images for a flat-feature estimator
        X = X.reshape(len(X), -1)
    names = getattr(estimator, "feature_names_in_", None)
    if names is not None and X.ndim == 2 and X.shape[1] == len(names):
        import pandas as pd  # installed: the estimator was fitted on a DataFrame

        return pd.DataFrame(X, columns=names)
    return X


def row_batches(X, batch_size):
    """``X`` in consecutive batches of rows, by position (arrays, DataFrames, tensors)."""
    n = X.shape[0] if hasattr(X, "shape") else len(X)
    for start in range(0, n, batch_size):
        yield _safe_indexing(X, np.arange(start, min(start + batch_size, n)))
