"""Rows by position, from every kind of data prunekd takes."""

import numpy as np
from skorch.utils import is_dataset
from torch.utils.data import Subset

from ._compat import _safe_indexing

__all__ = ["take"]


def take(X, indices):
    """The rows ``indices`` of ``X``, by position, whatever ``X`` is.

    A pruner's ``fit_transform`` returns positions of rows. ``X[indices]``
    selects them from a NumPy array but *columns* from a pandas DataFrame;
    ``take`` selects rows from arrays, lists, DataFrames and Series (with
    their index and column names), sparse matrices and torch Datasets (as a
    lazy ``Subset``: nothing is decoded).

    Parameters
    ----------
    X : array-like, DataFrame, sparse matrix or torch Dataset
    indices : array-like of int
        Positions of the rows, such as ``pruner.fit_transform(X, y)``.

    Returns
    -------
    rows : same kind as ``X``

    Examples
    --------
    >>> import numpy as np
    >>> from prunekd import RandomPruner, take
    >>> X = np.arange(12).reshape(6, 2)
    >>> y = np.array([0, 0, 0, 1, 1, 1])
    >>> kept = RandomPruner(fraction=1 / 3, random_state=0).fit_transform(X, y)
    >>> take(X, kept).shape, take(y, kept).tolist()
    ((2, 2), [0, 1])
    """
    if is_dataset(X):
        return Subset(X, indices)
    return _safe_indexing(X, np.asarray(indices))
