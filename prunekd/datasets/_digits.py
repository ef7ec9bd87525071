"""The embedded default data: scikit-learn's 8x8 handwritten digits."""

import numpy as np
from sklearn import datasets as _skdatasets


def load_digits(*, images=True):
    """Load scikit-learn's digits (1,797 8x8 grey images, 10 classes), scaled to [0, 1].

    The data ships with scikit-learn, so nothing is downloaded.

    Parameters
    ----------
    images : bool, default=True
        Return images of shape ``(n, 1, 8, 8)`` for convolutional networks;
        False returns flat features of shape ``(n, 64)``.

    Returns
    -------
    X : ndarray of float32
    y : ndarray of int64 of shape (1797,)

    Examples
    --------
    >>> from prunekd.datasets import load_digits
    >>> X, y = load_digits()
    >>> X.shape, y.shape
    ((1797, 1, 8, 8), (1797,))
    """
    X, y = _skdatasets.load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    if images:
        X = X.reshape(-1, 1, 8, 8)
    return X, y.astype(np.int64)
