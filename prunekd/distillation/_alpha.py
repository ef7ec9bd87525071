"""Choosing alpha from the fraction of the data the student trains on."""

from contextlib import contextmanager
from contextvars import ContextVar

import numpy as np

# Knots of the rule (kept fraction, alpha); alpha is interpolated linearly
# between them and constant outside. They are the "suggested knots" of the
# default `prunekd` sweep on digits (docs/results.md): per fraction, the mean
# over pruners of the alpha chosen on validation, made non-increasing.
AUTO_ALPHA_KNOTS = ((0.1, 1.0), (0.2, 0.75), (0.3, 0.62), (0.5, 0.52), (1.0, 0.52))

_TRAIN_FRACTION = ContextVar("prunekd_train_fraction", default=None)


def auto_alpha(fraction):
    """The alpha that ``alpha="auto"`` uses for a kept fraction of the data.

    Non-increasing in ``fraction``: the less data the student sees, the more
    it should trust the teacher. Linear interpolation between the knots in
    ``AUTO_ALPHA_KNOTS`` = (0.1, 1.0), (0.2, 0.75), (0.3, 0.62), (0.5, 0.52),
    (1.0, 0.52), constant outside them. The knots come from the default
    ``prunekd`` sweep on digits: per fraction, the mean over the four pruners
    of the alpha with the best validation accuracy, made non-increasing by
    isotonic regression (see the results page of the documentation).

    Parameters
    ----------
    fraction : float
        Fraction of the full training set the student trains on, in (0, 1].

    Returns
    -------
    alpha : float

    Examples
    --------
    >>> from prunekd.distillation import auto_alpha
    >>> auto_alpha(0.1), auto_alpha(0.2), auto_alpha(1.0)
    (1.0, 0.75, 0.52)
    """
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1]; got {fraction!r}")
    xs, ys = zip(*AUTO_ALPHA_KNOTS)
    return float(np.interp(fraction, xs, ys))


def current_train_fraction():
    """Fraction of the data kept by the pruners of the Pipeline now fitting, or None."""
    return _TRAIN_FRACTION.get()


@contextmanager
def train_fraction(fraction):
    """Let a student fitted in this block know the fraction of the data it sees."""
    token = _TRAIN_FRACTION.set(fraction)
    try:
        yield
    finally:
        _TRAIN_FRACTION.reset(token)
