"""A pruner as an imbalanced-learn sampler, for imbalanced-learn's Pipeline."""

from sklearn.base import BaseEstimator, clone

from .._rows import take
from ._base import BasePruner


class PrunerSampler(BaseEstimator):
    """A pruner behind imbalanced-learn's sampler interface: ``fit_resample(X, y)``.

    imbalanced-learn's :class:`~imblearn.pipeline.Pipeline` applies a step's
    ``fit_resample`` during ``fit`` only, as :class:`prunekd.Pipeline` does
    with pruners, and refuses a step that also has ``transform``, so this
    adapter exposes ``fit_resample`` and no ``transform``. Build it with
    :func:`as_sampler`.

    That route loses what only :class:`prunekd.Pipeline` passes to the
    student: the kept fraction (``alpha="auto"`` refuses to guess it), the
    raw rows of ``teacher_input`` (the teacher reads what the student reads),
    and the pruning of ``sample_weight`` with the rows (imbalanced-learn
    does not subset fit parameters after a sampler).

    Parameters
    ----------
    pruner : BasePruner
        Cloned and fitted by every ``fit_resample``.

    Attributes
    ----------
    pruner_ : BasePruner
        The fitted clone.
    sample_indices_ : ndarray of int
        Positions of the kept rows in the last ``fit_resample``.

    Examples
    --------
    >>> import numpy as np
    >>> from prunekd import RandomPruner, as_sampler
    >>> X, y = np.arange(20).reshape(10, 2), np.array([0, 1] * 5)
    >>> X_kept, y_kept = as_sampler(RandomPruner(fraction=0.4, random_state=0)).fit_resample(X, y)
    >>> X_kept.shape, np.bincount(y_kept).tolist()
    ((4, 2), [2, 2])
    """

    def __init__(self, pruner):
        self.pruner = pruner

    def fit_resample(self, X, y, **params):
        """Fit a clone of the pruner on ``X, y``; return the kept rows of both.

        Parameters
        ----------
        X : array-like, DataFrame or torch Dataset
        y : array-like of shape (n_samples,)
        **params : dict
            Not supported; a non-empty dict raises.

        Returns
        -------
        X_kept, y_kept : the kept rows, of the same kinds as ``X`` and ``y``
        """
        if not isinstance(self.pruner, BasePruner):
            raise TypeError(f"as_sampler needs a prunekd pruner; got {type(self.pruner).__name__}")
        if params:
            raise TypeError(f"fit_resample takes no fit parameters; got {sorted(params)}")
        self.pruner_ = clone(self.pruner)
        self.sample_indices_ = self.pruner_.fit_transform(X, y)
        return take(X, self.sample_indices_), take(y, self.sample_indices_)

    def fit(self, X, y):
        """Fit the pruner (as ``fit_resample`` does) and return ``self``."""
        self.fit_resample(X, y)
        return self


def as_sampler(pruner):
    """``pruner`` as a step for imbalanced-learn's Pipeline (see :class:`PrunerSampler`).

    Parameters
    ----------
    pruner : BasePruner

    Returns
    -------
    sampler : PrunerSampler

    Examples
    --------
    >>> from prunekd import EL2NPruner, as_sampler
    >>> as_sampler(EL2NPruner(fraction=0.3)).pruner.fraction
    0.3
    """
    return PrunerSampler(pruner)
