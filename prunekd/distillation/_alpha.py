"""Choosing alpha from the fraction of the data the student trains on."""

import numpy as np

# Knots of the rule (kept fraction, alpha); alpha is interpolated linearly
# between them and constant outside. They are prunekd.experiments.fit_auto_alpha
# of the exploratory sweeps stored in docs/results/ (three settings, the default
# protocol; docs/auto_alpha.md), and a test keeps them equal to it.
AUTO_ALPHA_KNOTS = ((0.1, 1.0), (0.2, 0.94), (0.3, 0.91), (0.5, 0.85), (0.7, 0.73), (1.0, 0.25))


def auto_alpha(fraction):
    """The alpha that ``alpha="auto"`` uses for a kept fraction of the data.

    Non-increasing in ``fraction``: the less data the student sees, the more
    it should trust the teacher. Linear interpolation between the knots in
    ``AUTO_ALPHA_KNOTS`` = (0.1, 1.0), (0.2, 0.94), (0.3, 0.91), (0.5, 0.85),
    (0.7, 0.73), (1.0, 0.25), constant outside them. The knots are fitted to
    exploratory ``prunekd`` sweeps on digits under the default protocol (every
    student trained 70 epochs over its kept rows) in three settings (a CNN
    student, an MLP student, 20% flipped labels), pooled over seeds and
    pruners: per fraction, the maximum of a quadratic fitted to the validation
    accuracy over alpha, made non-increasing by isotonic regression
    (:func:`prunekd.experiments.fit_auto_alpha`). Validated on each setting
    left out, the rule loses 0.1 to 0.3 accuracy points against the best alpha
    of each cell with clean labels and 10.5 with noisy ones (a fixed alpha of
    0.5: 0.2, and 11.4). On the confirmatory run, seeds it never saw, it loses
    0.3 points and a fixed alpha of 0.5 loses 0.2: with clean labels on digits a
    fixed alpha does as well (see the "alpha='auto'" page of the
    documentation).

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
    >>> auto_alpha(0.1), auto_alpha(0.5), auto_alpha(1.0)
    (1.0, 0.85, 0.25)
    """
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1]; got {fraction!r}")
    xs, ys = zip(*AUTO_ALPHA_KNOTS)
    return float(np.interp(fraction, xs, ys))
