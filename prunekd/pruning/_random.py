"""Random pruning."""

from ._base import BasePruner


class RandomPruner(BasePruner):
    """Keep a uniformly random subset (class-balanced by default).

    The strong baseline: with knowledge distillation, random pruning matches
    the score-based pruners.

    Parameters
    ----------
    fraction : float, default=0.5
        Fraction of the samples kept, in (0, 1]; exactly
        ``round(fraction * n_samples)`` samples are kept.
    class_balanced : bool, default=True
        Keep the same fraction of every class (largest-remainder rounding, at
        least one sample per class).
    random_state : int, RandomState instance or None, default=None
        Seeds the draw.
    memory : str, joblib.Memory or None, default=None
        Folder (or ``joblib.Memory``) caching the scores across fits and
        processes; see :class:`~prunekd.pruning.BasePruner`.

    Attributes
    ----------
    scores_ : ndarray of shape (n_samples,)
        Random priorities drawn uniformly in [0, 1); the largest are kept.
    sample_indices_ : ndarray of shape (n_kept,)
        Sorted indices of the kept samples.
    classes_ : ndarray of shape (n_classes,)
        Class labels seen in ``fit``.
    n_features_in_ : int
        Number of features of the fitted ``X``.

    Notes
    -----
    The values of ``X`` are never read (only its number of rows), so missing
    (NaN) and infinite values are accepted, as by scikit-learn's dummy
    estimators.

    See Also
    --------
    EL2NPruner, GraNdPruner, ForgettingPruner : score-based pruners.

    Examples
    --------
    >>> import numpy as np
    >>> from prunekd import RandomPruner
    >>> X, y = np.zeros((10, 2)), np.array([0] * 5 + [1] * 5)
    >>> idx = RandomPruner(fraction=0.4, random_state=0).fit_transform(X, y)
    >>> len(idx), np.bincount(y[idx]).tolist()
    (4, [2, 2])
    """

    _reads_X = False

    def compute_scores(self, X, y, random_state):
        """Uniform random priorities."""
        return random_state.random_sample(len(y))
