"""Verdicts on a family of primary findings under Holm's rule, the same rule both ways.

Results protocol v3 reads several primary findings per dataset. Each is one
paired difference per seed against a threshold (0, or ``-margin`` for a
"not worse" claim), and stands for two one-sided hypotheses: the paper's side
("reproduced" when rejected: the mean lies above the threshold) and the other
("contradicted": it lies below). Holm's step-down procedure runs over all
``2k`` one-sided t-tests at family-wise level ``alpha``: the ``j``-th smallest
p-value (from 0) is tested at ``alpha / (2k - j)``, and testing stops at the
first that fails. This bounds the chance of any wrong word in the family by
``alpha`` under any dependence between the findings (they share runs); its
first step is the two-sided test at ``alpha / k``.

Each finding's interval is two-sided at the level its hypothesis was tested
at (``1 - 2 alpha / (2k - j)``), or, for a finding not rejected, at the level
where testing stopped: so a rejected finding's interval excludes its
threshold and every other one's includes it. Adjusted p-values are reported.
"""

from dataclasses import dataclass

import numpy as np
from scipy import stats

FAMILY_ALPHA = 0.05


@dataclass
class FamilyVerdict:
    """One primary finding's Holm verdict.

    Attributes
    ----------
    estimate : float
        Mean paired difference over seeds.
    low, high : float
        Its two-sided t-interval at ``level``.
    level : float
        The confidence level of the interval (see the module docstring).
    p : float
        Holm-adjusted p-value of the finding's better-supported direction.
    word : {"reproduced", "contradicted", "inconclusive"}
    below_zero : bool
        A "not worse" finding (threshold below 0) whose interval lies wholly
        below 0, whatever its word: within the margin or not, significantly
        below.
    n_seeds : int
    """

    estimate: float
    low: float
    high: float
    level: float
    p: float
    word: str
    below_zero: bool
    n_seeds: int


def _one_sided(values, threshold):
    """``(p above, p below)``: one-sided t-test p-values of the mean against ``threshold``."""
    n = len(values)
    sd = values.std(ddof=1) if n > 1 else 0.0
    if n < 2 or sd == 0:
        above = float(values.mean() > threshold) if n else 0.0
        return (1.0 - above, above) if n > 1 else (1.0, 1.0)
    t = (values.mean() - threshold) / (sd / np.sqrt(n))
    return float(stats.t.sf(t, n - 1)), float(stats.t.cdf(t, n - 1))


def _interval(values, level):
    n, mean = len(values), float(values.mean()) if len(values) else np.nan
    if n < 2:
        return mean, -np.inf, np.inf
    half = stats.t.ppf(0.5 + level / 2, n - 1) * values.std(ddof=1) / np.sqrt(n)
    return mean, float(mean - half), float(mean + half)


def _holm(p, alpha):
    """Rejections, the one-sided level each hypothesis met or stopped at, and adjusted p."""
    m, order = len(p), np.argsort(p, kind="stable")
    rejected, level, adjusted = np.zeros(m, bool), np.zeros(m), np.zeros(m)
    stop, running = None, 0.0
    for j, h in enumerate(order):
        running = max(running, min(1.0, (m - j) * p[h]))
        adjusted[h] = running
        if stop is None and p[h] <= alpha / (m - j):
            rejected[h], level[h] = True, alpha / (m - j)
        elif stop is None:
            stop = alpha / (m - j)
    level[~rejected] = alpha if stop is None else stop
    return rejected, level, adjusted


def holm_verdicts(findings, alpha=FAMILY_ALPHA, min_seeds=2):
    """Holm verdicts on a family: ``{name: (values per seed, threshold)}`` -> ``{name: FamilyVerdict}``.

    NaN values (a seed missing a run) are left out of their finding (the
    protocol publishes no run missing a seed). A finding with fewer than
    ``min_seeds`` values reads "inconclusive" and takes part with p = 1.

    Examples
    --------
    >>> import numpy as np
    >>> from prunekd.experiments._family import holm_verdicts
    >>> rng = np.random.RandomState(0)
    >>> family = {"clear gain": (1.0 + 0.3 * rng.randn(10), 0.0),
    ...           "no effect": (0.3 * rng.randn(10), 0.0),
    ...           "not worse": (0.1 + 0.3 * rng.randn(10), -1.0)}
    >>> {name: v.word for name, v in holm_verdicts(family).items()}
    {'clear gain': 'reproduced', 'no effect': 'inconclusive', 'not worse': 'reproduced'}
    """
    names, clean = list(findings), []
    for values, threshold in findings.values():
        values = np.asarray(values, dtype=float)
        clean.append((values[~np.isnan(values)], float(threshold)))
    # Hypothesis 2i: finding i lies above its threshold; 2i + 1: below.
    p = np.ones(2 * len(clean))
    for i, (values, threshold) in enumerate(clean):
        if len(values) >= min_seeds:
            p[2 * i], p[2 * i + 1] = _one_sided(values, threshold)
    rejected, level, adjusted = _holm(p, alpha)
    out = {}
    for i, (values, threshold) in enumerate(clean):
        up, down = 2 * i, 2 * i + 1
        word = (
            "reproduced" if rejected[up] else "contradicted" if rejected[down] else "inconclusive"
        )
        side = down if (rejected[down] or (not rejected[up] and p[down] < p[up])) else up
        mean, low, high = _interval(values, 1 - 2 * level[side])
        below = threshold < 0 and high < 0
        out[names[i]] = FamilyVerdict(
            mean, low, high, 1 - 2 * level[side], adjusted[side], word, below, len(values)
        )
    return out
