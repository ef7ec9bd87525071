"""A sweep's rows, indexed for the verdicts and tables, and how numbers are printed."""

import warnings

import numpy as np

from ._methods import method_names
from ._stats import bootstrap_interval, t_interval


def nanmean(values, axis=None):
    """``np.nanmean`` that returns NaN quietly where every value is missing (incomplete sweeps)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(values, axis=axis)


def complete(d):
    """The finite values of ``d``, as floats."""
    d = np.asarray(d, dtype=float)
    return d[~np.isnan(d)]


def paired_interval(differences):
    """Mean and 95% t interval of the per-seed differences that are not missing."""
    return t_interval(complete(differences))


class Results:
    """A sweep's rows indexed by (pruner, fraction, alpha, teacher, seed, budget scale).

    At fraction 1.0 every pruner keeps everything; the run made once (as
    "random") stands for all of them. The budget study's rows (scales other
    than 1) are read with ``scale=``.

    Parameters
    ----------
    rows : list of dict
        A sweep's results, as :func:`load_results` returns them.
    frozen : dict, default=None
        The protocol's frozen choices (see ``frozen_choices``): the KD alpha of
        each (pruner, fraction), and finding 2's comparator. Without them, or
        where an alpha is not in the sweep's grid, the alpha is the one with the
        best mean validation accuracy over seeds.

    Examples
    --------
    >>> from prunekd.experiments import Results
    >>> rows = [dict(study="main", pruner="random", fraction=0.1, alpha=a, seed=s,
    ...              teacher="equal" if a else "none", val_accuracy=0.8 + a / 10,
    ...              test_accuracy=0.8 + a / 10 + s / 100)
    ...         for s in (0, 1) for a in (0.0, 0.5, 1.0)]
    >>> r = Results(rows)
    >>> r.seeds, r.kd_alphas, r.chosen_alpha("random", 0.1)
    ([0, 1], [0.5, 1.0], 1.0)
    >>> r.kd_gain("random", 0.1).round(3).tolist()  # per seed: KD - no KD
    [0.1, 0.1]
    """

    def __init__(self, rows, frozen=None):
        self.frozen = frozen
        # The dynamic study's rows have tables of their own (see _dynamic_report.py).
        rows = [r for r in rows if r.get("study") != "dynamic"]
        self.rows = {}
        for r in rows:
            key = (
                r["pruner"],
                r["fraction"],
                r["alpha"],
                r["teacher"],
                r["seed"],
                float(r.get("budget_scale", 1.0)),
            )
            self.rows.setdefault(key, r)
        main = [r for r in rows if r["study"] == "main"]
        self.fractions = sorted({r["fraction"] for r in rows})
        self.alphas = sorted({r["alpha"] for r in main})
        self.kd_alphas = [a for a in self.alphas if a > 0]
        present = {r["pruner"] for r in main}
        self.pruners = [p for p in method_names() if p in present]
        self.seeds = sorted({r["seed"] for r in rows})
        self.teachers = sorted({r["teacher"] for r in rows} - {"none"})
        self.scales = sorted({float(r.get("budget_scale", 1.0)) for r in rows})

    def values(self, pruner, fraction, alpha, teacher, metric="test_accuracy", scale=1.0):
        """One value per seed of ``self.seeds`` (NaN where the run is missing)."""
        pruner = "random" if fraction == 1.0 else pruner
        rows = (self.rows.get((pruner, fraction, alpha, teacher, s, scale)) for s in self.seeds)
        return np.array([r.get(metric, np.nan) if r else np.nan for r in rows], dtype=float)

    def kd(self, pruner, fraction, alpha, metric="test_accuracy", scale=1.0):
        teacher = "none" if alpha == 0 else "equal"
        return self.values(pruner, fraction, alpha, teacher, metric, scale)

    def chosen_alpha(self, pruner, fraction):
        """The protocol's frozen KD alpha, else the best mean validation accuracy (ties: smaller)."""
        if self.frozen:
            pruner = "random" if fraction == 1.0 else pruner  # one run stands for all at f=1
            by_pruner = self.frozen["alphas"].get(pruner, self.frozen["pooled_alphas"])
            alpha = by_pruner.get(f"{fraction:g}")
            if alpha in self.kd_alphas:
                return alpha
        means = [nanmean(self.kd(pruner, fraction, a, "val_accuracy")) for a in self.kd_alphas]
        if not self.kd_alphas or np.all(np.isnan(means)):
            return np.nan
        return self.kd_alphas[int(np.nanargmax(means))]

    def kd_accuracy(self, pruner, fraction, metric="test_accuracy"):
        """Per seed: accuracy with KD at the alpha chosen on validation."""
        alpha = self.chosen_alpha(pruner, fraction)
        if np.isnan(alpha):
            return np.full(len(self.seeds), np.nan)
        return self.kd(pruner, fraction, alpha, metric)

    def kd_gain(self, pruner, fraction):
        """Per seed: test accuracy with KD (alpha chosen on validation) minus without."""
        return self.kd_accuracy(pruner, fraction) - self.kd(pruner, fraction, 0.0)

    def alpha_curves(self, pruners=None):
        """Validation accuracy, shape (seeds, pruners, fractions, KD alphas)."""
        pruners = pruners or self.pruners
        return np.array(
            [
                [
                    [
                        [self.kd(p, f, a, "val_accuracy")[i] for a in self.kd_alphas]
                        for f in self.fractions
                    ]
                    for p in pruners
                ]
                for i in range(len(self.seeds))
            ]
        )


def smoothed_best_alpha(alphas, accuracy):
    """The alpha maximising a quadratic fitted to accuracy over alpha (a line for 2 alphas).

    Searched on a fine grid between the smallest and largest alpha tried; ties
    go to the smaller alpha. A description of where the accuracy peaks (the
    finding on alpha is tested with an accuracy contrast instead).

    Examples
    --------
    >>> from prunekd.experiments import smoothed_best_alpha
    >>> round(smoothed_best_alpha([0.25, 0.5, 0.75, 1.0], [0.90, 0.95, 0.96, 0.95]), 2)
    0.76
    """
    alphas, accuracy = np.asarray(alphas, float), np.asarray(accuracy, float)
    keep = ~np.isnan(accuracy)
    alphas, accuracy = alphas[keep], accuracy[keep]
    if len(alphas) == 0:
        return np.nan
    if len(alphas) == 1:
        return float(alphas[0])
    coef = np.polyfit(alphas, accuracy, deg=min(2, len(alphas) - 1))
    grid = np.linspace(alphas.min(), alphas.max(), 301)
    return float(grid[int(np.argmax(np.polyval(coef, grid)))])


def best_alpha_table(results, random_state=0):
    """Per fraction: the smoothed best alpha (pooled over pruners) and its bootstrap interval."""
    if not results.kd_alphas:
        return []
    curves = results.alpha_curves()
    out = []
    for j, f in enumerate(results.fractions):

        def stat(seeds, j=j):
            return smoothed_best_alpha(
                results.kd_alphas, nanmean(curves[seeds][:, :, j], axis=(0, 1))
            )

        out.append((f, *bootstrap_interval(len(results.seeds), stat, random_state=random_state)))
    return out


def fmt_interval(estimate, low, high, scale=100, digits=1):
    """``+1.2 [+0.3, +2.1]``: an estimate and its interval, scaled (points by default)."""
    if not np.isfinite(estimate):
        return "n/a"
    value = f"{scale * estimate:+.{digits}f}"
    if not (np.isfinite(low) and np.isfinite(high)):
        return f"{value} [n/a]"
    return f"{value} [{scale * low:+.{digits}f}, {scale * high:+.{digits}f}]"


def fmt_accuracy(interval):
    """``97.7 [96.9, 98.4]``: a mean accuracy and its interval, in percent (no interval: the mean)."""
    mean, low, high = interval
    if not np.isfinite(low):
        return f"{100 * mean:.1f}"
    return f"{100 * mean:.1f} [{100 * low:.1f}, {100 * high:.1f}]"


def fmt_mean_sd(values):
    """Mean ± standard deviation over seeds, in percent; "–" where nothing is complete."""
    values = 100 * np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    if len(values) == 0:
        return "–"
    return f"{values.mean():.1f} ± {values.std(ddof=1) if len(values) > 1 else 0:.1f}"


def md_row(cells):
    """A markdown table row."""
    return "| " + " | ".join(str(c) for c in cells) + " |"


def md_header(first, fractions):
    """A markdown table header: the ``first`` columns, then one per kept fraction."""
    cols = [*first, *(f"f={f:g}" for f in fractions)]
    return [md_row(cols), md_row(["---"] * len(cols))]
