"""Intervals over seeds, and the three words a verdict may take."""

import numpy as np
from scipy import stats

LEVEL = 0.95
N_BOOTSTRAP = 2000
WORDS = ("reproduced", "contradicted", "inconclusive")


def t_interval(differences, level=LEVEL):
    """Mean of paired differences and its Student-t interval over seeds.

    Parameters
    ----------
    differences : array-like of shape (n_seeds,)
        One paired difference per seed.
    level : float, default=0.95

    Returns
    -------
    mean, low, high : float
        NaN without differences; an infinite interval with a single one.

    Examples
    --------
    >>> from prunekd.experiments import t_interval
    >>> [round(v, 3) for v in t_interval([1.0, 2.0, 3.0])]
    [2.0, -0.484, 4.484]
    """
    d = np.asarray(differences, dtype=float)
    if len(d) == 0:
        return np.nan, np.nan, np.nan
    mean = float(d.mean())
    if len(d) == 1:
        return mean, -np.inf, np.inf
    half = stats.t.ppf(0.5 + level / 2, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d))
    return mean, float(mean - half), float(mean + half)


def bootstrap_interval(n_seeds, statistic, level=LEVEL, n_resamples=N_BOOTSTRAP, random_state=0):
    """A statistic of the seeds and its percentile bootstrap interval, resampling seeds.

    Parameters
    ----------
    n_seeds : int
    statistic : callable
        ``statistic(seed_positions)`` for an array of positions in
        ``range(n_seeds)`` (with repeats in a resample).
    level : float, default=0.95
    n_resamples : int, default=2000
    random_state : int, default=0
        Seeds the resampling, so that a report is reproducible.

    Returns
    -------
    estimate, low, high : float

    Examples
    --------
    >>> import numpy as np
    >>> from prunekd.experiments import bootstrap_interval
    >>> values = np.array([1.0, 2.0, 3.0, 4.0])
    >>> estimate, low, high = bootstrap_interval(4, lambda s: values[s].mean())
    >>> estimate, 1.0 <= low < estimate < high <= 4.0
    (2.5, True)
    """
    estimate = float(statistic(np.arange(n_seeds)))
    if n_seeds < 2:
        return estimate, -np.inf, np.inf
    rng = np.random.RandomState(random_state)
    draws = np.array([statistic(rng.randint(n_seeds, size=n_seeds)) for _ in range(n_resamples)])
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(draws, [tail, 100 - tail])
    return estimate, float(low), float(high)


def word(low, high, threshold=0.0):
    """``"reproduced"`` when the interval lies above ``threshold`` (the paper's side).

    ``"contradicted"`` when it lies below, ``"inconclusive"`` when it
    straddles the threshold (or is undefined). Orient the statistic so that
    the paper's side is above.

    Examples
    --------
    >>> from prunekd.experiments import word
    >>> word(0.5, 2.0), word(-2.0, -0.5), word(-0.5, 2.0), word(-0.5, 2.0, threshold=-1.0)
    ('reproduced', 'contradicted', 'inconclusive', 'reproduced')
    """
    if np.isnan(low) or np.isnan(high):
        return "inconclusive"
    if low > threshold:
        return "reproduced"
    if high < threshold:
        return "contradicted"
    return "inconclusive"


def all_cells_word(cells, threshold=0.0):
    """One word for a claim that must hold in every cell (every pruner, every fraction).

    ``cells`` holds, per cell, ``(low, high)`` at the 95% level and
    ``(low, high)`` at the Bonferroni level ``1 - 0.05 / n_cells``. The claim is
    *reproduced* when every cell's 95% interval lies on the paper's side (an
    intersection-union test: no correction is needed for "all"), *contradicted*
    when some cell's Bonferroni interval lies on the other side (a correction
    is needed for "some"), and *inconclusive* otherwise.

    Examples
    --------
    >>> from prunekd.experiments import all_cells_word
    >>> all_cells_word([((0.1, 2.0), (-0.1, 2.2)), ((0.5, 1.0), (0.4, 1.1))])
    'reproduced'
    >>> all_cells_word([((0.1, 2.0), (-0.1, 2.2)), ((-0.5, 1.0), (-0.6, 1.1))])
    'inconclusive'
    >>> all_cells_word([((0.1, 2.0), (-0.1, 2.2)), ((-3.0, -1.0), (-3.5, -0.5))])
    'contradicted'
    """
    if not cells:
        return "inconclusive"
    if any(word(*adjusted, threshold) == "contradicted" for _, adjusted in cells):
        return "contradicted"
    if all(word(*interval, threshold) == "reproduced" for interval, _ in cells):
        return "reproduced"
    return "inconclusive"
