"""Fitting ``alpha="auto"`` to sweeps, and measuring what it costs against other choices."""

import numpy as np
from sklearn.isotonic import IsotonicRegression

from ._results import Results, nanmean, smoothed_best_alpha
from ._stats import t_interval


def fit_auto_alpha(settings):
    """A non-increasing alpha(fraction) fitted to the pooled results of several sweeps.

    Per fraction, the validation accuracy over the KD alphas is averaged over
    seeds and pruners within each setting, then over settings (each setting
    weighs the same); a quadratic fitted to that curve gives the best alpha
    (:func:`smoothed_best_alpha`); an isotonic regression makes the result
    non-increasing in the fraction.

    Parameters
    ----------
    settings : dict of str to list of dict
        Each setting's rows, as :func:`load_results` returns them.

    Returns
    -------
    knots : list of (fraction, alpha)
        Only fractions present in every setting.

    Examples
    --------
    >>> from prunekd.experiments import fit_auto_alpha
    >>> def rows(best):
    ...     return [dict(study="main", pruner="random", fraction=f, alpha=a, seed=0,
    ...                  teacher="equal", val_accuracy=1 - (a - best[f]) ** 2, test_accuracy=0)
    ...             for f in (0.1, 0.5) for a in (0.25, 0.5, 0.75, 1.0)]
    >>> fit_auto_alpha({"a": rows({0.1: 1.0, 0.5: 0.5}), "b": rows({0.1: 0.8, 0.5: 0.3})})
    [(0.1, 0.9), (0.5, 0.4)]
    """
    results = [Results(rows) for rows in settings.values()]
    fractions = sorted(set.intersection(*(set(r.fractions) for r in results)))
    alphas = sorted(set.intersection(*(set(r.kd_alphas) for r in results)))
    if not fractions or len(alphas) < 1:
        return []
    best = []
    for f in fractions:
        curves = [
            nanmean(
                [[nanmean(r.kd(p, f, a, "val_accuracy")) for a in alphas] for p in r.pruners],
                axis=0,
            )
            for r in results
        ]
        best.append(smoothed_best_alpha(alphas, np.mean(curves, axis=0)))
    fitted = IsotonicRegression(increasing=False).fit_transform(fractions, best)
    return [(float(f), round(float(a), 2)) for f, a in zip(fractions, fitted)]


def knots_rule(knots):
    """``alpha(fraction)``: linear between the knots, constant outside them.

    Examples
    --------
    >>> from prunekd.experiments import knots_rule
    >>> rule = knots_rule([(0.1, 1.0), (0.5, 0.5)])
    >>> rule(0.05), rule(0.3), rule(1.0)
    (1.0, 0.75, 0.5)
    """
    xs, ys = zip(*knots)
    return lambda fraction: float(np.interp(fraction, xs, ys))


def alpha_regret(rows, rule):
    """Test accuracy lost by choosing alpha with ``rule`` instead of the best alpha per cell.

    For every (pruner, fraction) cell the best alpha is the KD alpha with the
    highest mean test accuracy over seeds (an oracle: no rule can beat it on
    average). ``rule(fraction)`` may fall between the alphas tried; its
    accuracy is then interpolated linearly between them. The regret is
    averaged over cells, per seed, with a t-interval over seeds.

    Parameters
    ----------
    rows : list of dict
    rule : callable
        ``rule(fraction) -> alpha``.

    Returns
    -------
    mean, low, high : float
        In accuracy (multiply by 100 for points).

    Examples
    --------
    >>> from prunekd.experiments import alpha_regret
    >>> rows = [dict(study="main", pruner="random", fraction=0.1, alpha=a, seed=s,
    ...              teacher="equal" if a else "none", val_accuracy=0, test_accuracy=acc + s / 100)
    ...         for s in range(3) for a, acc in [(0.0, 0.5), (0.5, 0.8), (1.0, 0.9)]]
    >>> [round(v, 3) for v in alpha_regret(rows, lambda f: 0.5)]
    [0.1, 0.1, 0.1]
    >>> round(alpha_regret(rows, lambda f: 0.75)[0], 3)
    0.05
    """
    per_seed = _regret_per_seed(rows, rule)
    if per_seed is None:
        return np.nan, np.nan, np.nan
    return t_interval(per_seed)


def _regret_per_seed(rows, rule):
    """Per seed, the mean over cells of the accuracy lost by ``rule``; None without a complete cell."""
    r = Results(rows)
    alphas = r.kd_alphas
    per_seed = []
    for f in r.fractions:
        for p in r.pruners if f < 1.0 else ["random"]:
            acc = np.array([r.kd(p, f, a) for a in alphas])  # (alphas, seeds)
            if np.isnan(acc).any():
                continue  # an incomplete cell: no fair comparison
            best = acc[int(np.argmax(acc.mean(axis=1)))]
            chosen = np.array([np.interp(rule(f), alphas, acc[:, i]) for i in range(len(r.seeds))])
            per_seed.append(best - chosen)
    return np.mean(per_seed, axis=0) if per_seed else None


def validate_auto_alpha(settings, fixed=0.5):
    """Leave-one-setting-out regret of the fitted rule, against a fixed alpha.

    For every setting, the rule is fitted on the other settings
    (:func:`fit_auto_alpha`) and its :func:`alpha_regret` measured on the one
    left out; the rule fitted on every setting and the fixed alpha are
    measured on it too.

    Parameters
    ----------
    settings : dict of str to list of dict
    fixed : float, default=0.5

    Returns
    -------
    table : list of dict
        One row per setting: ``setting``, ``knots_out`` (fitted without it),
        ``regret_out``, ``regret_all``, ``regret_fixed`` and
        ``fixed_minus_out`` (the fixed alpha's regret minus the rule's, paired
        by seed), each ``(mean, low, high)``.

    Examples
    --------
    >>> from prunekd.experiments import validate_auto_alpha
    >>> def rows(best):
    ...     return [dict(study="main", pruner="random", fraction=f, alpha=a, seed=s,
    ...                  teacher="equal", val_accuracy=1 - (a - best[f]) ** 2 + s / 100,
    ...                  test_accuracy=1 - (a - best[f]) ** 2 + s / 100)
    ...             for s in (0, 1) for f in (0.1, 0.5) for a in (0.25, 0.5, 0.75, 1.0)]
    >>> table = validate_auto_alpha({"a": rows({0.1: 1.0, 0.5: 0.5}),
    ...                              "b": rows({0.1: 1.0, 0.5: 0.25})})
    >>> [(row["setting"], row["knots_out"]) for row in table]
    [('a', [(0.1, 1.0), (0.5, 0.25)]), ('b', [(0.1, 1.0), (0.5, 0.5)])]
    >>> round(100 * table[0]["regret_out"][0], 2)  # points lost on "a" with b's rule
    3.12
    """
    everything = fit_auto_alpha(settings)
    table = []
    for name, rows in settings.items():
        others = {k: v for k, v in settings.items() if k != name}
        knots = fit_auto_alpha(others) if others else everything
        out = _regret_per_seed(rows, knots_rule(knots))
        fixed_rule = _regret_per_seed(rows, lambda f: fixed)
        table.append(
            dict(
                setting=name,
                knots_out=knots,
                regret_out=t_interval(out),
                regret_all=alpha_regret(rows, knots_rule(everything)),
                regret_fixed=t_interval(fixed_rule),
                fixed_minus_out=t_interval(fixed_rule - out),
            )
        )
    return table
