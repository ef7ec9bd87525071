"""Searching the kept fraction and the distillation weight jointly, and reading the search."""

import numpy as np
from sklearn.utils import Bunch

from ._search import DistillationSearchCV

__all__ = ["DistillationSearchCV", "best_alpha_per_fraction", "smallest_fraction_within"]


def _results(search_or_results):
    results = getattr(search_or_results, "cv_results_", search_or_results)
    if not isinstance(results, dict) or "params" not in results:
        raise TypeError("expected a fitted GridSearchCV/RandomizedSearchCV or its cv_results_ dict")
    return results


def _find_param(results, suffix, given):
    if given is not None:
        if f"param_{given}" not in results:
            raise ValueError(f"{given!r} is not a searched parameter")
        return given
    names = [k[len("param_") :] for k in results if k.startswith("param_")]
    matches = [n for n in names if n == suffix or n.endswith("__" + suffix)]
    if len(matches) != 1:
        raise ValueError(
            f"could not find a single searched parameter ending in {suffix!r} among "
            f"{names}; pass its name explicitly"
        )
    return matches[0]


def _metric(results, scoring, refit=None):
    """The metric whose ``mean_test_<metric>`` to read: ``scoring``, the refit one, or the only one."""
    metrics = sorted(k[len("mean_test_") :] for k in results if k.startswith("mean_test_"))
    if scoring is not None:
        if scoring not in metrics:
            raise ValueError(
                f"scoring={scoring!r} is not a metric of this search; choose from {metrics}"
            )
        return scoring
    if "score" in metrics:
        return "score"
    if isinstance(refit, str) and refit in metrics:
        return refit
    if len(metrics) == 1:
        return metrics[0]
    raise ValueError(
        f"this search scored several metrics {metrics} and none is its refit metric; pass "
        "scoring= one of them"
    )


def best_alpha_per_fraction(search, fraction=None, alpha=None, scoring=None):
    """The best alpha, and its score, for each kept fraction of a joint search.

    A search over fraction x alpha always prefers the largest fraction (more
    data is better); what users need is the best alpha *for each* fraction.

    Parameters
    ----------
    search : fitted GridSearchCV or RandomizedSearchCV, or its ``cv_results_``
    fraction : str, default=None
        Name of the fraction parameter; found automatically when exactly one
        searched parameter ends in ``fraction``.
    alpha : str, default=None
        Name of the alpha parameter; found automatically likewise.
    scoring : str, default=None
        The metric read from a search that scored several
        (``GridSearchCV(scoring={"acc": ..., "f1": ...})``). None: the search's
        only metric, or its ``refit`` metric when it names one.

    Returns
    -------
    table : Bunch of arrays
        ``fraction`` (ascending), ``best_alpha``, ``mean_test_score``,
        ``std_test_score`` (of the metric read); one entry per fraction. ``pandas.DataFrame(table)``
        turns it into a data frame. For several candidates per (fraction,
        alpha), such as other searched parameters, the best is kept.

    Examples
    --------
    >>> from prunekd import best_alpha_per_fraction
    >>> results = {"params": [{}] * 4,
    ...            "param_p__fraction": [0.1, 0.1, 0.5, 0.5],
    ...            "param_s__alpha": [0.0, 0.9, 0.0, 0.9],
    ...            "mean_test_score": [0.80, 0.90, 0.95, 0.94],
    ...            "std_test_score": [0.01, 0.01, 0.01, 0.01]}
    >>> table = best_alpha_per_fraction(results)
    >>> table.fraction.tolist(), table.best_alpha.tolist()
    ([0.1, 0.5], [0.9, 0.0])
    """
    results = _results(search)
    fraction = _find_param(results, "fraction", fraction)
    alpha = _find_param(results, "alpha", alpha)
    metric = _metric(results, scoring, getattr(search, "refit", None))
    fractions = np.asarray(results[f"param_{fraction}"], dtype=float)
    alphas = np.asarray(results[f"param_{alpha}"], dtype=object)
    means = np.asarray(results[f"mean_test_{metric}"], dtype=float)
    stds = np.asarray(results[f"std_test_{metric}"], dtype=float)
    rows = {"fraction": [], "best_alpha": [], "mean_test_score": [], "std_test_score": []}
    for f in np.unique(fractions):
        candidates = np.flatnonzero(fractions == f)
        # A failed candidate (error_score=np.nan) is never the best.
        candidates = candidates[~np.isnan(means[candidates])]
        rows["fraction"].append(f)
        if len(candidates) == 0:
            rows["best_alpha"].append(None)
            rows["mean_test_score"].append(np.nan)
            rows["std_test_score"].append(np.nan)
            continue
        best = candidates[np.argmax(means[candidates])]  # first of ties: grid order
        rows["best_alpha"].append(alphas[best])
        rows["mean_test_score"].append(means[best])
        rows["std_test_score"].append(stds[best])
    return Bunch(**{k: np.asarray(v) for k, v in rows.items()})


def smallest_fraction_within(tolerance=0.01, fraction=None, scoring=None):
    """A ``refit`` rule: the smallest fraction whose score is within ``tolerance`` of the best.

    Pass the result as ``GridSearchCV(..., refit=smallest_fraction_within(0.01))``.
    Among the candidates whose mean test score is at least ``best - tolerance``,
    the one with the smallest fraction wins, and among those the best score.

    Parameters
    ----------
    tolerance : float, default=0.01
        Accuracy (or score) one is willing to give up for less data, >= 0.
    fraction : str, default=None
        Name of the fraction parameter; found automatically when exactly one
        searched parameter ends in ``fraction``.
    scoring : str, default=None
        The metric to compare, for a search that scores several (the refit
        callable of such a search must be told which); None: the search's only
        metric, and a clear error when it has several.

    Returns
    -------
    refit : callable
        Maps ``cv_results_`` to the index of the chosen candidate.

    Examples
    --------
    >>> from prunekd import smallest_fraction_within
    >>> results = {"params": [{}] * 3, "param_p__fraction": [0.1, 0.3, 1.0],
    ...            "mean_test_score": [0.90, 0.965, 0.97]}
    >>> smallest_fraction_within(0.01)(results)
    1
    """
    if not (isinstance(tolerance, (int, float)) and tolerance >= 0):
        raise ValueError(f"tolerance must be a number >= 0; got {tolerance!r}")

    def refit(cv_results):
        results = _results(cv_results)
        name = _find_param(results, "fraction", fraction)
        fractions = np.asarray(results[f"param_{name}"], dtype=float)
        means = np.asarray(results[f"mean_test_{_metric(results, scoring)}"], dtype=float)
        ok = np.flatnonzero(means >= np.nanmax(means) - tolerance)
        smallest = ok[fractions[ok] == fractions[ok].min()]
        return int(smallest[np.argmax(means[smallest])])

    return refit
